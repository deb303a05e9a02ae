// `xoa render` as a user (and the NixOS module's derivation) runs it.
import assert from 'node:assert/strict'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { parse } from 'smol-toml'
import { REPO, tempDir, xoa } from '../helpers.ts'

const EXAMPLE = join(REPO, 'examples', 'xoa.toml')

test('--list names every artefact with a description', () => {
  const r = xoa(['render', '--list'])
  assert.equal(r.status, 0, r.stderr)
  for (const name of ['config.toml', 'redis-xo.conf', 'xo-server.service', 'sudoers-mount', 'sshd'])
    assert.match(r.stdout, new RegExp(`^${name.replace('.', '\\.')}\\s+\\S`, 'm'))
  const j = xoa(['render', '--list', '--json'])
  assert.ok(JSON.parse(j.stdout).some((a: { name: string }) => a.name === 'config.toml'))
})

test('one artefact prints its content byte for byte, the same on every run', () => {
  const a = xoa(['render', 'config.toml', '--spec', EXAMPLE])
  const b = xoa(['render', 'config.toml', '--spec', EXAMPLE])
  assert.equal(a.status, 0, a.stderr)
  assert.equal(a.stdout, b.stdout)
  const c = parse(a.stdout) as { http: { listen: Record<string, { port: number }> } }
  assert.equal(c.http.listen['1']?.port, 443)
})

test('--out writes each file under DIR at its absolute path with its mode, identically for a JSON spec', (t) => {
  const dir = tempDir(t)
  const out1 = join(dir, 'toml')
  const r = xoa(['render', 'all', '--spec', EXAMPLE, '--out', out1])
  assert.equal(r.status, 0, r.stderr)
  const config = join(out1, 'etc/xo-server/config.toml')
  assert.equal(statSync(config).mode & 0o777, 0o640)
  assert.equal(statSync(join(out1, 'etc/systemd/system/xo-server.service')).mode & 0o777, 0o644)
  assert.match(
    readFileSync(join(out1, 'etc/systemd/system/xo-bootstrap.service'), 'utf8'),
    /--spec \/\S+xoa\.toml/,
  )

  // The NixOS module writes the spec as JSON: same spec, same bytes.
  const json = join(dir, 'spec.json')
  const v = xoa(['validate', '--spec', EXAMPLE, '--json'])
  writeFileSync(json, v.stdout)
  const out2 = join(dir, 'json')
  assert.equal(xoa(['render', 'config.toml', '--spec', json, '--out', out2]).status, 0)
  assert.equal(readFileSync(join(out2, 'etc/xo-server/config.toml'), 'utf8'), readFileSync(config, 'utf8'))
})

test('--xoa-command goes into the units', () => {
  const r = xoa([
    'render',
    'xo-build.service',
    '--spec',
    EXAMPLE,
    '--xoa-command',
    '/nix/store/x-xoa/bin/xoa',
  ])
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, /^ExecStart=\/nix\/store\/x-xoa\/bin\/xoa build --spec /m)
})

test('an unknown artefact exits 2 with a suggestion; a bad spec exits 2 naming the field', (t) => {
  const r = xoa(['render', 'config.tom', '--spec', EXAMPLE])
  assert.equal(r.status, 2)
  assert.match(r.stderr, /did you mean "config\.toml"/)
  assert.match(r.stderr, /xoa render --list/)
  const bad = join(tempDir(t), 'bad.toml')
  writeFileSync(bad, '[xo]\nport = 0\n')
  const b = xoa(['render', 'config.toml', '--spec', bad])
  assert.equal(b.status, 2)
  assert.match(b.stderr, /xo\.port/)
  assert.equal(xoa(['render', '--help']).status, 0)
})

test('an artefact the spec turns off prints nothing and says so', () => {
  const r = xoa(['render', 'sudoers-mount', '--spec', EXAMPLE])
  assert.equal(r.status, 0)
  assert.equal(r.stdout, '')
  assert.match(r.stderr, /no file/)
})
