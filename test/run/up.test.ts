// `xoa up` end to end on the fixture release: the mini xo-server behaves like upstream (it creates
// admin@admin.net/admin after it starts listening when Redis has no user), so these tests prove that xoa's
// bootstrap makes the default account never exist, from the first second the port is open.
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { chmodSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { test } from 'node:test'
import { checkHealth, type Endpoint, get } from '../../src/run/health.ts'
import { runtimeEnv } from '../build/helpers.ts'
import { bundleMiniXo } from '../fixtures/mini-xo/bundle.ts'
import { commit, createFixture } from '../fixtures/monorepo.ts'
import { tempDir, XOA_BIN } from '../helpers.ts'

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })
}

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
  const rev = createFixture(src, {
    serverCli: await bundleMiniXo('server'),
    recoverCli: await bundleMiniXo('recover-account-cli'),
  })
  const ports = { http: await freePort(), https: await freePort() }
  const specFile = join(root, 'xoa.json')
  const writeSpec = (r: string) =>
    writeFileSync(
      specFile,
      JSON.stringify({
        xo: {
          host: '127.0.0.1',
          hostname: 'xo.test',
          port: ports.http,
          httpsPort: ports.https,
          stateDir: state,
          dataDir: join(root, 'data'),
          tempDir: join(root, 'tmp'),
          mountsDir: join(root, 'mounts'),
          ssl: {
            dir: join(root, 'ssl'),
            key: join(root, 'ssl', 'key.pem'),
            cert: join(root, 'ssl', 'cert.pem'),
          },
        },
        source: { url: src, rev: r },
        service: { user: 'nobody', group: 'nogroup' },
        webAdmin: { email: 'ops@example.test' },
        redis: { socket: join(root, 'redis', 'redis.sock'), dir: join(root, 'redis-data') },
        mounts: { mode: 'none' },
      }),
    )
  writeSpec(rev)
  return { root, src, state, specFile, rev, ports, writeSpec }
}

interface Up {
  child: ChildProcess
  output: () => string
  ready: Promise<void>
  exited: Promise<number | null>
  kill(): void
}

function startUp(s: Setup): Up {
  const child = spawn(process.execPath, [XOA_BIN, 'up', '--spec', s.specFile, '--health-timeout', '60'], {
    env: { ...process.env, ...runtimeEnv, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so a test that fails can kill xoa up *and* its children (Redis, xo-server).
    detached: true,
  })
  let out = ''
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString()
      if (/Xen Orchestra is up at/.test(out)) resolve()
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    exited.then((code) => reject(new Error(`xoa up exited ${code} before it was up:\n${out}`)))
  })
  ready.catch(() => {})
  return { child, output: () => out, ready, exited, kill: () => killGroup(child) }
}

function killGroup(child: ChildProcess): void {
  try {
    if (child.pid) process.kill(-child.pid, 'SIGKILL')
  } catch {
    // already gone
  }
}

async function stopUp(u: Up): Promise<number | null> {
  u.child.kill('SIGTERM')
  return u.exited
}

const endpoint = (s: Setup): Endpoint => ({
  url: `https://127.0.0.1:${s.ports.https}`,
  pinnedCert: readFileSync(join(s.root, 'ssl', 'cert.pem'), 'utf8'),
})

const admin = (s: Setup) => ({
  email: 'ops@example.test',
  password: readFileSync(join(s.state, 'secrets', 'admin-password'), 'utf8').trim(),
})

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
        const r = await get({ url: `https://127.0.0.1:${s.ports.https}` }, '/rest/v0/users', {
          email: 'admin@admin.net',
          password: 'admin',
        })
        probes++
        if (r.status === 200) defaultAccepted++
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 20))
    }
  })()
  const u = startUp(s)
  t.after(() => u.kill())
  await u.ready
  probing = false
  await prober

  const health = await checkHealth(endpoint(s), admin(s))
  assert.deepEqual(health, { healthy: true, ping: true, signIn: true }, u.output())
  const bad = await get(endpoint(s), '/rest/v0/users', { email: 'admin@admin.net', password: 'admin' })
  assert.equal(bad.status, 401)
  assert.ok(probes > 0, 'the prober reached the server at least once')
  assert.equal(defaultAccepted, 0, 'admin@admin.net/admin was accepted at some point')
  assert.doesNotMatch(u.output(), /Default user created/)
  // HTTP redirects to HTTPS.
  const plain = await get({ url: `http://127.0.0.1:${s.ports.http}` }, '/rest/v0/ping')
  assert.equal(plain.status, 302)

  assert.equal(await stopUp(u), 0, u.output())

  // Redis kept the admin across a restart (it saved on the way down), and nothing is rebuilt.
  const again = startUp(s)
  t.after(() => again.kill())
  await again.ready
  assert.match(again.output(), /up to date|is up at/)
  assert.doesNotMatch(again.output(), /created the web admin/)
  assert.equal((await checkHealth(endpoint(s), admin(s))).healthy, true)
  assert.equal(await stopUp(again), 0)
})

test('a release whose server crashes on start is rolled back; the previous one keeps serving', async (t) => {
  const s = await setup(t)
  const first = startUp(s)
  t.after(() => first.kill())
  await first.ready
  assert.equal(await stopUp(first), 0, first.output())
  const good = readlinkSync(join(s.state, 'current'))

  writeFileSync(
    join(s.src, 'packages', 'xo-server', 'src', 'cli.mjs'),
    "console.error('fixture: crashing on start'); process.exit(3)\n",
  )
  s.writeSpec(commit(s.src, 'fix: a broken server'))
  const second = startUp(s)
  t.after(() => second.kill())
  await second.ready
  assert.match(second.output(), /was not healthy/)
  assert.match(second.output(), /crashing on start/)
  assert.equal(readlinkSync(join(s.state, 'current')), good, 'current points at the good release again')
  assert.equal((await checkHealth(endpoint(s), admin(s))).healthy, true)
  assert.equal(await stopUp(second), 0)
})
