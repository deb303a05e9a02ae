// Issue 13: `xoa render all` for a NixOS-like platform (store paths) differs from the Debian render only in tool
// paths, the PATH made of their directories, and the XOA_PLATFORM line of the units that run xoa.
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { test } from 'node:test'
import { DEBIAN } from '../../src/platform/debian.ts'
import { servicePath, TOOLS } from '../../src/platform/platform.ts'
import { tempDir, xoa } from '../helpers.ts'
import { platformJson, storeLikePlatform } from './store-like.ts'

function files(root: string): Map<string, { mode: number; text: string }> {
  const out = new Map<string, { mode: number; text: string }>()
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name)
      if (e.isDirectory()) walk(p)
      else
        out.set(`/${relative(root, p)}`, { mode: statSync(p).mode & 0o7777, text: readFileSync(p, 'utf8') })
    }
  }
  walk(root)
  return out
}

const SPECS: Record<string, string> = {
  broker: '[xo]\nhost = "127.0.0.1"\n',
  sudo: '[mounts]\nmode = "sudo"\n[updates]\nschedule = "Sun 03:00"\n',
}

for (const [name, toml] of Object.entries(SPECS)) {
  test(`render all (${name} mode): the NixOS-like platform changes tool paths and XOA_PLATFORM only`, (t) => {
    const dir = tempDir(t)
    const spec = join(dir, 'xoa.toml')
    writeFileSync(spec, toml)
    const nixos = storeLikePlatform()
    const file = join(dir, 'platform.json')
    writeFileSync(file, platformJson(nixos), { mode: 0o644 })
    const render = (out: string, extra: string[], env: Record<string, string> = {}) => {
      const r = xoa(['render', 'all', '--spec', spec, '--out', join(dir, out), ...extra], { env })
      assert.equal(r.status, 0, r.stderr)
      return files(join(dir, out))
    }
    const debian = render('debian', [])
    const store = render('nixos', ['--platform', file])
    // XOA_PLATFORM in the environment selects the same file as --platform.
    assert.deepEqual(render('nixos-env', [], { XOA_PLATFORM: file }), store)

    assert.deepEqual([...store.keys()].sort(), [...debian.keys()].sort(), 'the same files')
    // Normalise the NixOS render back: its PATH, then each tool's path, then drop the XOA_PLATFORM lines.
    const swaps: [string, string][] = [
      [servicePath(nixos).join(':'), servicePath(DEBIAN).join(':')],
      ...TOOLS.map((t) => [nixos.tools[t]!, DEBIAN.tools[t]!] as [string, string]),
    ]
    let platformLines = 0
    let toolPaths = 0
    for (const [path, d] of debian) {
      const s = store.get(path)!
      assert.equal(s.mode, d.mode, `${path}: mode`)
      let text = s.text
      for (const [from, to] of swaps) {
        toolPaths += text.split(from).length - 1
        text = text.replaceAll(from, to)
      }
      const lines = text.split('\n')
      const kept = lines.filter((l) => l !== `Environment=XOA_PLATFORM=${file}`)
      platformLines += lines.length - kept.length
      assert.equal(kept.join('\n'), d.text, `${path} differs in more than tool paths`)
      // And the NixOS render names no Debian tool path at all.
      for (const tool of TOOLS)
        if (!['/bin/bash'].includes(DEBIAN.tools[tool]!))
          assert.ok(!s.text.includes(DEBIAN.tools[tool]!), `${path} still names ${DEBIAN.tools[tool]}`)
    }
    // Every unit that runs xoa carries the platform: bootstrap, build, XO state, the broker (broker mode), the upgrade.
    const carriers = [...store].filter(([, f]) => f.text.includes(`Environment=XOA_PLATFORM=${file}\n`))
    const expected = [
      '/etc/systemd/system/xo-bootstrap.service',
      '/etc/systemd/system/xo-build.service',
      '/etc/systemd/system/xoa-state.service',
      ...(name === 'broker'
        ? ['/etc/systemd/system/xoa-mountd.service']
        : ['/etc/systemd/system/xoa-update.service']),
    ]
    assert.deepEqual(carriers.map(([p]) => p).sort(), expected.sort())
    assert.equal(platformLines, expected.length)
    // At least Redis' ExecStart= and xo-server's PATH (sudo mode: the rules and secure_path too).
    assert.ok(
      toolPaths >= (name === 'sudo' ? 11 : 2),
      `only ${toolPaths} tool paths: the comparison compared nothing`,
    )
  })
}
