import assert from 'node:assert/strict'
import { test } from 'node:test'
import { knownKeys, SpecError, validateSpec } from '../../src/spec/load.ts'
import { specJsonSchema } from '../../src/spec/schema.ts'

test('an empty spec gets the seed defaults', () => {
  const s = validateSpec({})
  assert.equal(s.xo.host, '0.0.0.0')
  assert.equal(s.xo.port, 80)
  assert.equal(s.xo.httpsPort, 443)
  assert.deepEqual(s.xo.ssl, {
    enable: true,
    dir: '/etc/ssl/xo',
    key: '/etc/ssl/xo/key.pem',
    cert: '/etc/ssl/xo/certificate.pem',
    generate: true,
  })
  assert.equal(s.xo.dataDir, '/var/lib/xo/data')
  assert.equal(s.xo.tempDir, '/var/lib/xo/tmp')
  assert.equal(s.xo.mountsDir, '/var/lib/xo/mounts')
  assert.equal(s.xo.stateDir, '/var/lib/xo')
  assert.deepEqual(s.xo.extraServerEnv, {})
  assert.equal(s.service.user, 'xo')
  assert.equal(s.admin.user, 'xoa')
  assert.deepEqual(s.firewall.ports, [80, 443, 3389, 5900, 8012])
  assert.equal(s.mounts.mode, 'broker')
  assert.notEqual(s.webAdmin.email, 'admin@admin.net')
})

test('a nested default is filled when its parent is given partly', () => {
  const s = validateSpec({ xo: { ssl: { enable: false } } })
  assert.equal(s.xo.ssl.enable, false)
  assert.equal(s.xo.ssl.key, '/etc/ssl/xo/key.pem')
  assert.equal(s.xo.port, 80)
})

test('an unknown key suggests the closest known one', () => {
  assert.throws(
    () => validateSpec({ xo: { httpPort: 8443 } }, 'f.toml'),
    (e: unknown) =>
      e instanceof SpecError &&
      e.problems[0]?.field === 'xo.httpPort' &&
      /did you mean "httpsPort"/.test(e.message),
  )
})

test('known keys are read from the schema itself', () => {
  assert.ok(knownKeys([]).includes('xo'))
  assert.ok(knownKeys(['xo', 'ssl']).includes('cert'))
  assert.deepEqual(knownKeys(['nope']), [])
})

test('the JSON Schema describes the seed options', () => {
  const js = specJsonSchema() as { properties: { xo: { properties: Record<string, unknown> } } }
  for (const k of ['host', 'port', 'httpsPort', 'ssl', 'dataDir', 'tempDir', 'mountsDir', 'extraServerEnv'])
    assert.ok(k in js.properties.xo.properties, k)
})
