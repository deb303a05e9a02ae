// Choosing a platform: built-ins, the file form and its errors, and the engine's check of a tool it runs.
import assert from 'node:assert/strict'
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { detectHost } from '../../src/plan/host.ts'
import { CONTAINER } from '../../src/platform/container.ts'
import { DEBIAN } from '../../src/platform/debian.ts'
import { loadPlatform, platformRef } from '../../src/platform/load.ts'
import { TOOLS, toolPath } from '../../src/platform/platform.ts'
import { hostTool } from '../../src/platform/tool.ts'
import { XoaError } from '../../src/util/errors.ts'
import { tempDir, xoa } from '../helpers.ts'

const write = (dir: string, name: string, json: unknown, mode = 0o644) => {
  const f = join(dir, name)
  writeFileSync(f, typeof json === 'string' ? json : JSON.stringify(json))
  chmodSync(f, mode)
  return f
}

test('the built-ins name every tool, at absolute paths; debian is the default and needs no XOA_PLATFORM', () => {
  for (const p of [DEBIAN, CONTAINER]) {
    assert.deepEqual(Object.keys(p.tools).sort(), [...TOOLS].sort(), p.name)
    for (const path of Object.values(p.tools)) assert.match(path, /^\/[a-z]/)
  }
  assert.equal(loadPlatform('debian'), DEBIAN)
  assert.equal(loadPlatform('container'), CONTAINER)
  assert.equal(platformRef(DEBIAN), undefined)
  assert.equal(platformRef(CONTAINER), 'container')
  assert.throws(() => loadPlatform('nixos'), /unknown platform "nixos"/)
})

test('a platform file may name a subset; a tool it lacks is an error naming the tool and the file', (t) => {
  const dir = tempDir(t)
  const f = write(dir, 'p.json', {
    name: 'nixos',
    tools: { setpriv: '/nix/store/abc-util-linux/bin/setpriv' },
  })
  const p = loadPlatform(f)
  assert.equal(p.file, f)
  assert.equal(platformRef(p), f)
  assert.equal(toolPath(p, 'setpriv'), '/nix/store/abc-util-linux/bin/setpriv')
  assert.throws(
    () => toolPath(p, 'script'),
    (e: unknown) =>
      e instanceof XoaError &&
      e.message === `platform nixos (${f}) names no path for the tool "script"` &&
      (e.hint ?? '').includes(f),
  )
})

test('unknown keys, relative paths and bad files are refused, naming the key', (t) => {
  const dir = tempDir(t)
  const bad: [unknown, RegExp][] = [
    [{ name: 'x', tools: { setprivv: '/bin/x' } }, /tools\.setprivv: unknown tool "setprivv"/],
    [{ name: 'x', tools: { script: 'bin/script' } }, /tools\.script: must be an absolute path/],
    [{ name: 'x', tools: { script: '/a b/script' } }, /tools\.script: must not contain/],
    [{ name: 'x', tools: {}, extra: 1 }, /\(top level\)|extra/],
    [{ tools: {} }, /name/],
    ['{ not json', /is not JSON/],
  ]
  for (const [i, [json, why]] of bad.entries())
    assert.throws(() => loadPlatform(write(dir, `bad${i}.json`, json)), why, JSON.stringify(json))
  // Root runs what it names: a file others may change is refused.
  const open = write(dir, 'open.json', { name: 'x', tools: {} }, 0o666)
  assert.throws(() => loadPlatform(open), /may be changed by someone other than root/)
  if (process.geteuid?.() === 0) {
    // Read by root, a file another account owns (and so may rewrite) is refused even at 0644.
    const theirs = write(dir, 'theirs.json', { name: 'x', tools: {} })
    chownSync(theirs, 65534, 65534)
    assert.throws(() => loadPlatform(theirs), /may be changed by someone other than root/)
  }
  mkdirSync(join(dir, 'd.json'))
  assert.throws(() => loadPlatform(join(dir, 'd.json')), /not a regular file/)
  assert.throws(() => loadPlatform(join(dir, 'none.json')), /cannot read the platform file/)
})

test('a tool the engine runs must be there: the error names tool, path and platform', (t) => {
  const dir = tempDir(t)
  const f = write(dir, 'p.json', { name: 'moved', tools: { setpriv: join(dir, 'gone', 'setpriv') } })
  assert.throws(
    () => hostTool('setpriv', 'creating the web admin', loadPlatform(f)),
    (e: unknown) =>
      e instanceof XoaError &&
      e.message ===
        `creating the web admin needs setpriv at ${dir}/gone/setpriv (platform moved (${f})), which is not an executable there`,
  )
  assert.equal(hostTool('setpriv', 'x', DEBIAN), '/usr/bin/setpriv')
})

test('xoa render: XOA_PLATFORM and --platform select the file; a bad one stops it with exit 1', (t) => {
  const dir = tempDir(t)
  const f = write(dir, 'p.json', {
    ...DEBIAN,
    name: 'store',
    tools: { ...DEBIAN.tools, 'redis-server': '/nix/store/r-redis/bin/redis-server' },
  })
  const unit = xoa(['render', 'redis-xo.service', '--spec', '/dev/null'], { env: { XOA_PLATFORM: f } })
  assert.equal(unit.status, 0, unit.stderr)
  assert.match(
    unit.stdout,
    /^ExecStart=\/nix\/store\/r-redis\/bin\/redis-server \/etc\/xoa\/redis-xo\.conf$/m,
  )
  const boot = xoa(['render', 'xo-bootstrap.service', '--spec', '/dev/null', '--platform', f])
  assert.match(boot.stdout, new RegExp(`^Environment=XOA_PLATFORM=${f}$`, 'm'))
  const container = xoa(['render', 'xo-bootstrap.service', '--spec', '/dev/null', '--platform', 'container'])
  assert.match(container.stdout, /^Environment=XOA_PLATFORM=container$/m)
  const plain = xoa(['render', 'xo-bootstrap.service', '--spec', '/dev/null'])
  assert.doesNotMatch(plain.stdout, /XOA_PLATFORM/)
  const bad = xoa([
    'render',
    'all',
    '--spec',
    '/dev/null',
    '--platform',
    write(dir, 'b.json', { name: 'b', tools: { nope: '/x' } }),
  ])
  assert.equal(bad.status, 1)
  assert.match(bad.stderr, /tools\.nope: unknown tool "nope"/)
})

test('a platform that names no dpkg-query or apt-get (NixOS) has no packages to install, and is no error', () => {
  const { 'dpkg-query': _q, 'apt-get': _a, ...rest } = DEBIAN.tools
  assert.equal(detectHost('/', { name: 'nixos', tools: rest }).dpkg, false)
  assert.equal(detectHost('/', DEBIAN).dpkg, true, 'this Debian has both')
  assert.equal(
    detectHost('/', {
      name: 'moved',
      tools: { ...rest, 'dpkg-query': '/nowhere/dpkg-query', 'apt-get': DEBIAN.tools['apt-get'] },
    }).dpkg,
    false,
  )
})
