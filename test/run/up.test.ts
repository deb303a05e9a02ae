// `xoa up` end to end on the fixture release: the mini xo-server behaves like upstream (it creates
// admin@admin.net/admin after it starts listening when Redis has no user), so these tests prove that xoa's
// bootstrap makes the default account never exist, from the first second the port is open.
import assert from 'node:assert/strict'
import { chmodSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs'
import { request } from 'node:https'
import { join } from 'node:path'
import { test } from 'node:test'
import { checkHealth, type Endpoint, get } from '../../src/run/health.ts'
import { miniXoClis } from '../fixtures/mini-xo/bundle.ts'
import { commit, createFixture } from '../fixtures/monorepo.ts'
import { freePort, tempDir } from '../helpers.ts'
import { startUp, stopUp, upSpec } from './xoa-up.ts'

interface Setup {
  root: string
  src: string
  state: string
  specFile: string
  rev: string
  ports: { http: number; https: number }
  writeSpec(rev: string): void
}

async function setup(t: { after(fn: () => void): void }): Promise<Setup> {
  const root = tempDir(t, 'xoa-up-')
  // The service account (nobody) must reach the release and the Node runtime through these directories.
  chmodSync(root, 0o755)
  const src = join(root, 'src')
  const state = join(root, 'state')
  const rev = createFixture(src, await miniXoClis())
  const ports = { http: await freePort(), https: await freePort() }
  const specFile = join(root, 'xoa.json')
  const writeSpec = (r: string) =>
    writeFileSync(specFile, JSON.stringify(upSpec(root, { ports, state, source: { url: src, rev: r } })))
  writeSpec(rev)
  return { root, src, state, specFile, rev, ports, writeSpec }
}

const endpoint = (s: Setup): Endpoint => ({
  url: `https://127.0.0.1:${s.ports.https}`,
  pinnedCert: readFileSync(join(s.root, 'ssl', 'cert.pem'), 'utf8'),
})

const admin = (s: Setup) => ({
  email: 'ops@example.test',
  password: readFileSync(join(s.state, 'secrets', 'admin-password'), 'utf8').trim(),
})

/** GET /rest/v0/users as admin@admin.net/admin over HTTPS, any certificate accepted: the status, or throws. */
function defaultAdminProbe(port: number): Promise<number> {
  const auth = Buffer.from('admin@admin.net:admin').toString('base64')
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/rest/v0/users',
        rejectUnauthorized: false,
        agent: false,
        timeout: 5000,
      },
      (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      },
    )
    req.setHeader('authorization', `Basic ${auth}`)
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', reject)
    req.end()
  })
}

test('xoa up serves the fixture over HTTPS; the declared admin signs in; admin/admin never works', async (t) => {
  const s = await setup(t)
  // Probe the default credentials over plain HTTP from before xoa starts until it is up (HTTP redirects
  // to HTTPS, so probe HTTPS too once the certificate exists).
  let defaultAccepted = 0
  let probes = 0
  let probing = true
  const prober = (async () => {
    while (probing) {
      try {
        // An outsider's probe, not xoa's health check (which sends credentials to the pinned certificate only).
        const status = await defaultAdminProbe(s.ports.https)
        probes++
        if (status === 200) defaultAccepted++
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 20))
    }
  })()
  const u = startUp(s.specFile)
  t.after(() => u.kill())
  await u.ready
  probing = false
  await prober

  const health = await checkHealth(endpoint(s), admin(s))
  assert.deepEqual(health, { healthy: true, ping: true, signIn: true }, u.output())
  assert.equal(await defaultAdminProbe(s.ports.https), 401)
  assert.ok(probes > 0, 'the prober reached the server at least once')
  assert.equal(defaultAccepted, 0, 'admin@admin.net/admin was accepted at some point')
  assert.doesNotMatch(u.output(), /Default user created/)
  // HTTP redirects to HTTPS.
  const plain = await get({ url: `http://127.0.0.1:${s.ports.http}` }, '/rest/v0/ping')
  assert.equal(plain.status, 302)

  assert.equal(await stopUp(u), 0, u.output())

  // Redis kept the admin across a restart (it saved on the way down), and nothing is rebuilt.
  const again = startUp(s.specFile)
  t.after(() => again.kill())
  await again.ready
  assert.match(again.output(), /up to date|is up at/)
  assert.doesNotMatch(again.output(), /created the web admin/)
  assert.equal((await checkHealth(endpoint(s), admin(s))).healthy, true)
  assert.equal(await stopUp(again), 0)
})

test('a release whose server crashes on start is rolled back; the previous one keeps serving', async (t) => {
  const s = await setup(t)
  const first = startUp(s.specFile)
  t.after(() => first.kill())
  await first.ready
  assert.equal(await stopUp(first), 0, first.output())
  const good = readlinkSync(join(s.state, 'current'))

  writeFileSync(
    join(s.src, 'packages', 'xo-server', 'src', 'cli.mjs'),
    "console.error('fixture: crashing on start'); process.exit(3)\n",
  )
  s.writeSpec(commit(s.src, 'fix: a broken server'))
  const second = startUp(s.specFile)
  t.after(() => second.kill())
  await second.ready
  assert.match(second.output(), /was not healthy/)
  assert.match(second.output(), /crashing on start/)
  assert.equal(readlinkSync(join(s.state, 'current')), good, 'current points at the good release again')
  assert.equal((await checkHealth(endpoint(s), admin(s))).healthy, true)
  assert.equal(await stopUp(second), 0)
})
