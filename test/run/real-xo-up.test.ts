// Opt-in: `xoa up` on real upstream Xen Orchestra. XOA_REAL_STATE names a state dir holding a release built
// from upstream (e.g. by test/build/real-xo.test.ts or `xoa build`); otherwise XO_SOURCE_URL builds one first
// (tens of minutes). Checks: HTTPS ping, the declared admin signs in, admin@admin.net/admin is refused, a
// file:// remote is created over REST, and — with Debian's chromium — a screenshot of the sign-in page is kept
// in .cache/artifacts/.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { request } from 'node:https'
import { join } from 'node:path'
import { test } from 'node:test'
import { checkHealth, type Endpoint, get } from '../../src/run/health.ts'
import { runtimeEnv } from '../build/helpers.ts'
import { freePort, REPO, tempDir, xoa } from '../helpers.ts'
import { startUp, stopUp, upSpec } from './xoa-up.ts'

const givenState = process.env.XOA_REAL_STATE
const sourceUrl = process.env.XO_SOURCE_URL
const skip = !givenState && !sourceUrl && 'skipped: neither XOA_REAL_STATE nor XO_SOURCE_URL is set'

/** POST JSON with Basic auth, trusting exactly the configured certificate. */
function post(
  ep: Endpoint,
  path: string,
  auth: { email: string; password: string },
  body: unknown,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, ep.url),
      {
        method: 'POST',
        ca: ep.pinnedCert,
        headers: {
          'content-type': 'application/json',
          authorization: `Basic ${Buffer.from(`${auth.email}:${auth.password}`).toString('base64')}`,
        },
      },
      (res) => {
        let text = ''
        res.on('data', (c) => {
          text += c
        })
        res.on('end', () => resolve(text))
      },
    )
    req.on('error', reject)
    req.end(JSON.stringify(body))
  })
}

test('real XO under xoa up: HTTPS, declared admin, no default admin, a remote, the sign-in page', {
  skip,
  timeout: 90 * 60_000,
}, async (t) => {
  const root = tempDir(t, 'xoa-real-up-')
  chmodSync(root, 0o755)
  const ports = { http: await freePort(), https: await freePort() }
  const state = givenState ?? join(root, 'state')
  const specFile = join(root, 'xoa.json')
  writeFileSync(
    specFile,
    JSON.stringify(
      upSpec(root, {
        ports,
        state,
        source: givenState
          ? undefined
          : { url: sourceUrl, ...(process.env.XO_SOURCE_REV ? { rev: process.env.XO_SOURCE_REV } : {}) },
        webAdmin: { passwordFile: join(root, 'admin-password') },
      }),
    ),
  )
  const password = 'real-xo-test-password'
  writeFileSync(join(root, 'admin-password'), `${password}\n`, { mode: 0o600 })
  if (!givenState) {
    const b = xoa(['build', '--spec', specFile], { env: runtimeEnv })
    assert.equal(b.status, 0, b.stdout + b.stderr)
  }
  const up = startUp(specFile, ['--no-build', '--health-timeout', '300'])
  t.after(() => up.kill())
  await up.ready
  assert.doesNotMatch(up.output(), new RegExp(password), 'the admin password never reaches a log')

  const ep: Endpoint = {
    url: `https://127.0.0.1:${ports.https}`,
    pinnedCert: readFileSync(join(root, 'ssl', 'cert.pem'), 'utf8'),
  }
  const admin = { email: 'ops@example.test', password }
  assert.deepEqual(await checkHealth(ep, admin), { healthy: true, ping: true, signIn: true })
  assert.equal((await get(ep, '/rest/v0/users', { email: 'admin@admin.net', password: 'admin' })).status, 401)
  const home = await get(ep, '/')
  assert.equal(home.status, 302)

  const remoteDir = join(root, 'remote')
  mkdirSync(remoteDir)
  chownSync(remoteDir, 65534, 65534) // nobody: the service account writes its files there
  const created = JSON.parse(
    await post(ep, '/rest/v0/backup-repositories', admin, { name: 'local', url: `file://${remoteDir}` }),
  )
  assert.match(created.id ?? '', /^[0-9a-f-]{36}$/, JSON.stringify(created))

  if (existsSync('/usr/bin/chromium')) {
    const artifacts = join(REPO, '.cache', 'artifacts')
    mkdirSync(artifacts, { recursive: true })
    const shot = join(artifacts, 'xo-signin.png')
    const r = spawnSync(
      '/usr/bin/chromium',
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--user-data-dir=${join(root, 'chromium')}`,
        '--ignore-certificate-errors',
        '--window-size=1280,800',
        '--virtual-time-budget=15000',
        `--screenshot=${shot}`,
        `${ep.url}/signin`,
      ],
      { encoding: 'utf8', timeout: 120_000 },
    )
    assert.ok(existsSync(shot) && statSync(shot).size > 10_000, `no screenshot: ${r.stderr}`)
    t.diagnostic(`sign-in page screenshot: ${shot}`)
  } else t.diagnostic('no /usr/bin/chromium: screenshot skipped (apt-get install chromium)')

  assert.equal(await stopUp(up), 0)
})
