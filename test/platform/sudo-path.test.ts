// Issue 13: in mounts.mode = "sudo", the binaries the rules allow are the ones xo-server's PATH (and sudo's
// secure_path) resolves — on a NixOS-like layout where /run/wrappers/bin also holds setuid mount and umount.
import assert from 'node:assert/strict'
import { accessSync, constants } from 'node:fs'
import { basename, join } from 'node:path'
import { test } from 'node:test'
import { renderMountSudoers } from '../../src/render/sudoers.ts'
import { DEFAULT_RENDER_ENV } from '../../src/render/types.ts'
import { renderXoServerUnit } from '../../src/render/xo-server-unit.ts'
import { validateSpec } from '../../src/spec/load.ts'
import { tempDir } from '../helpers.ts'
import { materialize, storeLikePlatform } from './store-like.ts'

/** What execvp would run for `name` on PATH, on the real disk. */
function which(name: string, path: string): string | undefined {
  for (const dir of path.split(':')) {
    try {
      accessSync(join(dir, name), constants.X_OK)
      return join(dir, name)
    } catch {}
  }
  return undefined
}

test('every command the sudo rules allow is the first of its name on the PATH xo-server and sudo use', (t) => {
  const base = tempDir(t)
  const platform = storeLikePlatform(base)
  materialize(platform)
  const env = { ...DEFAULT_RENDER_ENV, platform }
  const spec = validateSpec({ mounts: { mode: 'sudo' } })
  const unit = renderXoServerUnit(spec, env).content
  const [sudoers] = renderMountSudoers(spec, env)
  assert.ok(sudoers)
  const unitPath = /^Environment=PATH=(\S+)$/m.exec(unit)?.[1]
  const securePath = /^Defaults:xo secure_path = "([^"]+)"$/m.exec(sudoers.content)?.[1]
  assert.ok(unitPath, unit)
  assert.equal(securePath, unitPath, 'sudo must resolve with the PATH xo-server has')
  const commands = /^Cmnd_Alias XO_MOUNT = (.+)$/m.exec(sudoers.content)?.[1]?.split(', ') ?? []
  assert.equal(commands.length, 8, sudoers.content)
  // xo-server finds the platform's sudo (the setuid wrapper), which finds exactly what its rules allow.
  assert.equal(which('sudo', unitPath), platform.tools.sudo)
  for (const c of commands) {
    assert.ok(c.startsWith(`${base}/nix/store/`), `${c}: the rule names the store path`)
    assert.equal(
      which(basename(c), unitPath),
      c,
      `\`sudo ${basename(c)}\` would run another file than the rule's`,
    )
  }
  // The layout is a real trap: with the platform's PATH alone (wrappers first, as on NixOS), `sudo mount`
  // would run the setuid wrapper, which no rule allows.
  const naive = platform.path!.join(':')
  assert.equal(which('mount', naive), join(platform.wrappers, 'mount'))
  assert.notEqual(which('mount', naive), platform.tools.mount)
})
