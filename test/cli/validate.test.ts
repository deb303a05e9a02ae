import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { REPO, tempDir, xoa } from '../helpers.ts'

test('the example spec is valid', () => {
  const r = xoa(['validate', '--spec', join(REPO, 'examples', 'xoa.toml')])
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, /valid/)
})

test('validate --json prints the spec with defaults filled', (t) => {
  const f = join(tempDir(t), 'x.json')
  writeFileSync(f, JSON.stringify({ xo: { port: 8080 } }))
  const r = xoa(['validate', '--spec', f, '--json'])
  assert.equal(r.status, 0, r.stderr)
  const spec = JSON.parse(r.stdout)
  assert.equal(spec.xo.port, 8080)
  assert.equal(spec.xo.httpsPort, 443)
})

test('a missing spec file exits 2 and says how to get one', () => {
  const r = xoa(['validate', '--spec', '/nonexistent/xoa.toml'])
  assert.equal(r.status, 2)
  assert.match(r.stderr, /ENOENT.*examples\/xoa\.toml/)
})

test('schema prints a JSON Schema', () => {
  const r = xoa(['schema'])
  assert.equal(r.status, 0)
  assert.equal(JSON.parse(r.stdout).type, 'object')
})

test('an unknown command exits 2, --help exits 0', () => {
  assert.equal(xoa(['bogus']).status, 2)
  const h = xoa(['--help'])
  assert.equal(h.status, 0)
  assert.match(h.stdout, /validate/)
})
