// The container image's spec: defaults, then a mounted spec file, then XOA_* variables (src/spec/container.ts).
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { containerSpecDoc, mergeDocs, specEnvironment } from '../../src/spec/container.ts'
import { loadSpec, SpecError, validateSpec } from '../../src/spec/load.ts'
import { statePaths } from '../../src/spec/paths.ts'
import { tempDir } from '../helpers.ts'

const ON = { XOA_CONTAINER: '1' }

test('in the container, no spec file gives the image defaults: state in the volume, release in the image', (t) => {
  const dir = tempDir(t)
  const spec = loadSpec(join(dir, 'absent.toml'), ON)
  const p = statePaths(spec)
  assert.equal(spec.xo.stateDir, '/var/lib/xo')
  // Everything the container must keep is under the one volume…
  for (const kept of [
    spec.redis.dir,
    spec.xo.ssl.cert,
    spec.xo.ssl.key,
    spec.xo.dataDir,
    p.secrets,
    p.serverConfigHome,
    p.backups,
  ])
    assert.ok(kept.startsWith('/var/lib/xo/'), `${kept} is in the volume`)
  // …and the release is not, so a newer image is never shadowed by an old volume.
  for (const image of [p.releases, p.current, p.runtimes, p.currentNode])
    assert.ok(image.startsWith('/opt/xoa/store/'), `${image} is in the image`)
  assert.deepEqual([spec.xo.port, spec.xo.httpsPort], [8080, 8443])
  assert.deepEqual([spec.service.uid, spec.service.gid], [10001, 10001])
  assert.equal(spec.admin.enable, false)
})

test('a mounted spec file overrides the defaults field by field; XOA_* variables override both', (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'xoa.toml')
  writeFileSync(file, '[xo]\nhost = "127.0.0.1"\nhttpsPort = 9443\nhostname = "from.file"\n')
  const spec = loadSpec(file, {
    ...ON,
    XOA_HOSTNAME: 'xo.example.test',
    XOA_HTTP_PORT: '9080',
    XOA_ADMIN_EMAIL: 'ops@example.test',
    XOA_ADMIN_PASSWORD_FILE: '/run/secrets/xo-admin',
  })
  assert.equal(spec.xo.host, '127.0.0.1')
  assert.equal(spec.xo.httpsPort, 9443)
  assert.equal(spec.xo.port, 9080)
  assert.equal(spec.xo.hostname, 'xo.example.test')
  assert.equal(spec.webAdmin.email, 'ops@example.test')
  assert.equal(spec.webAdmin.passwordFile, '/run/secrets/xo-admin')
  // The file did not restate them, so the container defaults still hold.
  assert.equal(spec.xo.ssl.dir, '/var/lib/xo/ssl')
  assert.equal(spec.build.storeDir, '/opt/xoa/store')
})

test('a bad value from the environment is named by its variable', (t) => {
  const dir = tempDir(t)
  assert.throws(
    () => loadSpec(join(dir, 'absent.toml'), { ...ON, XOA_HTTPS_PORT: '443x' }),
    (e: unknown) =>
      e instanceof SpecError &&
      e.problems.some((p) => p.field === 'xo.httpsPort' && /from \$XOA_HTTPS_PORT/.test(p.message)),
  )
  assert.throws(
    () => loadSpec(join(dir, 'absent.toml'), { ...ON, XOA_ADMIN_EMAIL: 'admin@admin.net' }),
    (e: unknown) => e instanceof SpecError && /XOA_ADMIN_EMAIL/.test(e.message),
  )
})

test('outside the container (no XOA_CONTAINER) a missing spec is an error and XOA_* variables do nothing', (t) => {
  const dir = tempDir(t)
  assert.throws(() => loadSpec(join(dir, 'absent.toml'), {}), SpecError)
  const file = join(dir, 'xoa.toml')
  writeFileSync(file, '[xo]\nport = 8081\n')
  const spec = loadSpec(file, { XOA_HTTP_PORT: '9999' })
  assert.equal(spec.xo.port, 8081)
  assert.equal(spec.xo.stateDir, '/var/lib/xo')
  assert.equal(statePaths(spec).releases, '/var/lib/xo/releases')
})

test('a malformed mounted spec is reported as such, not replaced by the defaults', (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'xoa.toml')
  writeFileSync(file, '[xo\n')
  assert.throws(() => loadSpec(file, ON), /malformed TOML/)
})

test('mergeDocs merges tables and replaces lists; containerSpecDoc keeps non-numbers for the schema', () => {
  assert.deepEqual(mergeDocs({ a: { b: 1, c: [1, 2] } }, { a: { c: [3] } }), { a: { b: 1, c: [3] } })
  const { doc } = containerSpecDoc(undefined, { XOA_HTTP_PORT: 'eighty' })
  assert.equal((doc as { xo: { port: unknown } }).xo.port, 'eighty')
  assert.deepEqual(specEnvironment({ XOA_CONTAINER: '1', XOA_HOSTNAME: 'h', OTHER: 'x' }), {
    XOA_CONTAINER: '1',
    XOA_HOSTNAME: 'h',
  })
})

test('build.storeDir must keep clear of the directories the service account owns', () => {
  assert.throws(
    () => validateSpec({ build: { storeDir: '/var/lib/xo/data/store' } }),
    (e: unknown) => e instanceof SpecError && e.problems.some((p) => p.field === 'xo.dataDir'),
  )
  assert.throws(() => validateSpec({ build: { storeDir: '/usr' } }), /build\.storeDir/)
  assert.equal(validateSpec({ build: { storeDir: '/opt/xoa/store' } }).build.storeDir, '/opt/xoa/store')
})
