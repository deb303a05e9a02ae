// The real `systemd-analyze verify` over rendered units, in a root of their own (shared by the render tests).
import { spawnSync } from 'node:child_process'
import { chmodSync, cpSync, mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { renderAll } from '../../src/render/index.ts'
import { DEFAULT_RENDER_ENV, type RenderEnv } from '../../src/render/types.ts'
import type { Spec } from '../../src/spec/schema.ts'
import { tempDir } from '../helpers.ts'

/** The first word of each ExecStart=, unquoted the way systemd does it (C-style double quotes). */
export function execPaths(unit: string): string[] {
  return [...unit.matchAll(/^ExecStart=(?:"((?:[^"\\]|\\.)*)"|(\S+))/gm)].map((m) =>
    m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1').replaceAll('%%', '%') : m[2]!.replaceAll('%%', '%'),
  )
}

/**
 * A filesystem root holding the rendered units, systemd's own units and a stub executable at every ExecStart
 * path: `verify` refuses a unit whose binary is missing, and the real binaries (the current release's Node,
 * xoa itself) only exist on a deployed host. systemd 252's `verify --root` resolves both the units and the
 * ExecStart paths inside that root, so the check stays real without touching this machine's /etc.
 */
export function verifyRoot(t: Parameters<typeof tempDir>[0], s: Spec, env: RenderEnv = DEFAULT_RENDER_ENV) {
  const root = tempDir(t, 'xoa-units-')
  cpSync('/usr/lib/systemd/system', join(root, 'usr/lib/systemd/system'), { recursive: true })
  const units = new Map<string, string>()
  for (const f of renderAll(s, env)) {
    const p = join(root, f.path)
    mkdirSync(dirname(p), { recursive: true })
    writeFileSync(p, f.content)
    if (f.path.startsWith('/etc/systemd/system/')) units.set(f.path.slice('/etc/systemd/system/'.length), p)
    for (const bin of f.validate === 'systemd-unit' ? execPaths(f.content) : []) {
      const stub = join(root, bin)
      mkdirSync(dirname(stub), { recursive: true })
      writeFileSync(stub, '#!/bin/sh\nexit 0\n')
      chmodSync(stub, 0o755)
    }
  }
  return { root, units }
}

export function verify(root: string, unit: string) {
  return spawnSync(
    'systemd-analyze',
    ['verify', '--man=no', `--root=${root}`, `/etc/systemd/system/${unit}`],
    {
      encoding: 'utf8',
    },
  )
}
