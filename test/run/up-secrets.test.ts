// `xoa up` and the unit's `xoa bootstrap` on one state dir, end to end on the fixture release with real Redis:
// one session secret for both, the admin never recreated, and xo.extraServerEnv's `{ file }` value in the
// environment of the running xo-server (read from the kernel: /proc/<pid>/environ), never on disk outside the
// root-only secrets.
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { parse as parseToml } from 'smol-toml'
import { hostLayout } from '../../src/host/layout.ts'
import { bootstrap } from '../../src/run/bootstrap.ts'
import { pingRedis } from '../../src/run/redis.ts'
import { validateSpec } from '../../src/spec/load.ts'
import { miniXoClis } from '../fixtures/mini-xo/bundle.ts'
import { createFixture } from '../fixtures/monorepo.ts'
import { freePort, tempDir } from '../helpers.ts'
import { startUp, stopUp, upSpec } from './xoa-up.ts'

const NOBODY = 65534

/** The environment of the process running `entry`, as the kernel holds it. */
function environOf(entry: string): Record<string, string> | undefined {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let cmdline: string
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    } catch {
      continue
    }
    if (!cmdline.split('\0').includes(entry)) continue
    const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean)
    return Object.fromEntries(env.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]))
  }
  return undefined
}

const sessionOf = (file: string) =>
  (parseToml(readFileSync(file, 'utf8')) as { http: { sessionSecret: string } }).http.sessionSecret

test('xoa up and the unit bootstrap share one session secret; xo-server gets the { file } env value', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root: xoa up as root runs xo-server as nobody')
  const root = tempDir(t, 'xoa-up-secrets-')
  chmodSync(root, 0o755)
  const given = join(root, 'given')
  mkdirSync(given, { mode: 0o700 })
  const token = join(given, 'token')
  writeFileSync(token, 'fr0m-a-file-t0ken\n', { mode: 0o600 })
  const ports = { http: await freePort(), https: await freePort() }
  const state = join(root, 'state')
  const rev = createFixture(join(root, 'src'), await miniXoClis())
  const base = upSpec(root, { ports, state, source: { url: join(root, 'src'), rev } }) as {
    xo: Record<string, unknown>
  }
  const doc = { ...base, xo: { ...base.xo, extraServerEnv: { XO_PROBE_TOKEN: { file: token } } } }
  const specFile = join(root, 'xoa.json')
  writeFileSync(specFile, JSON.stringify(doc))
  const spec = validateSpec(doc)
  const entry = join(state, 'current', 'xo', 'packages', 'xo-server', 'dist', 'cli.mjs')

  const u = startUp(specFile)
  t.after(() => u.kill())
  await u.ready
  const env = environOf(entry)
  assert.equal(env?.XO_PROBE_TOKEN, 'fr0m-a-file-t0ken', u.output())
  assert.doesNotMatch(u.output(), /fr0m-a-file-t0ken/)
  const envFile = join(state, 'secrets', 'xo-server.env')
  const st = statSync(envFile)
  assert.deepEqual([st.uid, st.gid, st.mode & 0o7777], [0, 0, 0o600])
  const session = readFileSync(join(state, 'secrets', 'session-secret'), 'utf8')
  assert.equal(sessionOf(hostLayout(spec, 'foreground').xoSecrets), session)
  assert.equal(await stopUp(u), 0, u.output())

  // The unit's bootstrap on the same state (the NixOS layout: every path under the state dir), with the
  // Redis `xoa up` left: it reuses the secret and the admin, generating nothing but the file it lacked.
  const redis = startRedisAsNobody(join(state, 'up', 'redis-xo.conf'))
  t.after(() => redis.kill('SIGKILL'))
  for (let i = 0; i < 200 && !(await pingRedis(spec.redis.socket)); i++) await sleep(50)
  const boot = await bootstrap(spec, { mode: 'nixos' })
  assert.deepEqual(boot.admin, { created: false })
  assert.deepEqual(
    boot.secrets.map((s) => [s.path, s.outcome]),
    [
      [join(state, 'secrets', 'admin-password'), 'same'],
      [join(state, 'secrets', 'session-secret'), 'same'],
      [hostLayout(spec, 'nixos').xoSecrets, 'same'],
      [envFile, 'same'],
    ],
    'NixOS and xoa up keep it at the same place',
  )
  assert.equal(
    JSON.stringify(boot).includes('fr0m-a-file-t0ken'),
    false,
    'the printable report holds no secret',
  )
  redis.kill('SIGTERM')
  await new Promise((r) => redis.once('exit', r))

  // xoa up again: the same secret, and the admin from the first run still signs in (the health check).
  const again = startUp(specFile)
  t.after(() => again.kill())
  await again.ready
  assert.equal(readFileSync(join(state, 'secrets', 'session-secret'), 'utf8'), session)
  assert.doesNotMatch(again.output(), /created the web admin|generated /)
  assert.equal(await stopUp(again), 0, again.output())
  assert.ok(existsSync(envFile))
})

function startRedisAsNobody(conf: string): ChildProcess {
  return spawn(
    'setpriv',
    [
      `--reuid=${NOBODY}`,
      `--regid=${NOBODY}`,
      '--clear-groups',
      'redis-server',
      conf,
      '--supervised',
      'no',
      '--daemonize',
      'no',
    ],
    {
      stdio: 'ignore',
    },
  )
}
