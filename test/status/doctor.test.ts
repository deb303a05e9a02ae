// `xoa doctor --root` against a healthy temp host, then against the same host with one thing broken: that check
// fails, says the fix, and the exit status is 1. Real Redis, real certificates, real listeners, real files.
import assert from 'node:assert/strict'
import {
  appendFileSync,
  chmodSync,
  chownSync,
  mkdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs'
import { createServer } from 'node:net'
import { dirname } from 'node:path'
import { test } from 'node:test'
import { isDeepStrictEqual } from 'node:util'
import { desired } from '../../src/plan/desired.ts'
import { DEFAULT_RENDER_ENV } from '../../src/render/types.ts'
import { doctorResources } from '../../src/status/doctor/host-model.ts'
import { observeRedis } from '../../src/status/redis-facts.ts'
import { type DoctorJson, healthyHost } from './host.ts'
import { addXoUser, dropXoUsers } from './xo-redis.ts'

const DAY = 86_400_000

function only(report: DoctorJson, check: string) {
  return report.findings.filter((f) => f.check === check)
}

function assertFails(
  run: { status: number; report: DoctorJson; stdout: string },
  check: string,
  finding: RegExp,
  fix: RegExp,
) {
  assert.equal(run.status, 1, run.stdout)
  assert.equal(run.report.ok, false)
  const f = only(run.report, check).find((x) => x.level === 'fail' && finding.test(x.finding))
  assert.ok(f, `no failing ${check} finding matching ${finding} in:\n${run.stdout}`)
  assert.match(f.fix ?? '', fix)
}

test('a healthy host: every check ok (health skipped: no systemd under --root), exit 0', async (t) => {
  const h = await healthyHost(t)
  const run = h.doctor()
  assert.equal(run.status, 0, run.stdout)
  const notOk = run.report.findings.filter((f) => f.level !== 'ok')
  assert.deepEqual(
    notOk.map((f) => `${f.check}:${f.level}`),
    // The stock Redis is probed over TCP on the live host only.
    ['stock-redis:skip', 'health:skip'],
    run.stdout,
  )
  for (const c of [
    'spec',
    'release',
    'config',
    'permissions',
    'mount-path',
    'redis',
    'users',
    'certificate',
    'ports',
    'fuse',
    'vhdimount',
    'broker',
    'sshd',
  ])
    assert.ok(only(run.report, c).length > 0, `check ${c} reported nothing`)
})

test('missing release → release fails, fix: xoa build', async (t) => {
  const h = await healthyHost(t)
  unlinkSync(h.at('/var/lib/xo/current'))
  assertFails(h.doctor(), 'release', /no current release/, /^xoa build --spec /)
})

test('an incomplete release (no cli.mjs) → release fails', async (t) => {
  const h = await healthyHost(t)
  rmSync(h.at('/var/lib/xo/current/xo/packages/xo-server/dist/cli.mjs'))
  assertFails(h.doctor(), 'release', /lacks xo\/packages\/xo-server\/dist\/cli\.mjs/, /xoa build/)
})

test('config drift → config fails, fix: xoa apply; a config that is not TOML too', async (t) => {
  const h = await healthyHost(t)
  appendFileSync(h.at('/etc/xo-server/config.toml'), '\n[authentication]\ndefaultTokenValidity = "1 year"\n')
  assertFails(h.doctor(), 'config', /differs from what the spec renders/, /^xoa apply --spec /)
  writeFileSync(h.at('/etc/xo-server/config.toml'), '[http\n')
  assertFails(h.doctor(), 'config', /is not valid TOML/, /^xoa apply/)
})

test('Redis down → redis fails with the restart; users are skipped', async (t) => {
  const h = await healthyHost(t)
  await h.stopRedis()
  const run = h.doctor()
  assertFails(run, 'redis', /does not answer/, /systemctl restart redis-xo/)
  assert.equal(only(run.report, 'users')[0]?.level, 'skip')
})

test('eviction policy wrong, AOF off → redis fails twice, fix: xoa apply && restart redis-xo', async (t) => {
  const h = await healthyHost(t)
  await h.redis((c) => c.configSet('maxmemory-policy', 'allkeys-lru'))
  assertFails(h.doctor(), 'redis', /maxmemory-policy is allkeys-lru/, /xoa apply.*systemctl restart redis-xo/)
  await h.redis((c) => c.configSet('appendonly', 'no'))
  const run = h.doctor()
  assertFails(run, 'redis', /AOF is off/, /systemctl restart redis-xo/)
  assert.equal(only(run.report, 'redis').filter((f) => f.level === 'fail').length, 2)
})

test('admin@admin.net present → users fails with how to remove it; no users at all → xoa bootstrap', async (t) => {
  const h = await healthyHost(t)
  await h.redis((c) => addXoUser(c, 'u2', 'admin@admin.net'))
  assertFails(h.doctor(), 'users', /admin@admin\.net exists/, /delete admin@admin\.net/)
  await h.redis((c) => dropXoUsers(c))
  assertFails(h.doctor(), 'users', /no XO user/, /^xoa bootstrap/)
  // An id left in xo:user_ids without its record is no user to upstream either: it would create the default.
  await h.redis((c) => c.sAdd('xo:user_ids', 'ghost'))
  assertFails(h.doctor(), 'users', /no XO user/, /^xoa bootstrap/)
})

// Issue 12: real XO stores each user as a JSON string (upstream #7113); older installs kept hashes; with
// redis.encryptCredentialDatabase the records are encrypted. Doctor reads all three and never fails on Redis.
for (const stored of ['hash', 'json'] as const)
  test(`users stored as ${stored === 'json' ? 'JSON strings (upstream today)' : 'hashes (before #7113)'}: redis and users ok, admin@admin.net seen`, async (t) => {
    const h = await healthyHost(t)
    await h.redis(async (c) => {
      await dropXoUsers(c)
      await addXoUser(c, 'u1', 'Ops@Example.test', stored) // upstream's email index is case-insensitive
    })
    let run = h.doctor()
    assert.equal(run.status, 0, run.stdout)
    assert.deepEqual(
      only(run.report, 'redis').map((f) => f.level),
      ['ok'],
    )
    assert.match(only(run.report, 'users')[0]?.finding ?? '', /^1 user\(s\), ops@example\.test among them/)
    await h.redis((c) => addXoUser(c, 'u2', 'admin@admin.net', stored))
    run = h.doctor()
    assertFails(run, 'users', /admin@admin\.net exists/, /delete admin@admin\.net/)
  })

test('users encrypted by xo-server (redis.encryptCredentialDatabase): unknown, not a failure; facts say so', async (t) => {
  const h = await healthyHost(t)
  await h.redis(async (c) => {
    await dropXoUsers(c)
    await addXoUser(c, 'u1', 'ops@example.test', 'encrypted')
    await addXoUser(c, 'u2', 'someone@example.test', 'encrypted')
  })
  const run = h.doctor()
  assert.equal(run.status, 0, run.stdout)
  assert.deepEqual(
    only(run.report, 'users').map((f) => [f.level, f.finding]),
    [
      [
        'skip',
        '2 user(s), 2 encrypted by xo-server (redis.encryptCredentialDatabase): whether admin@admin.net exists and whether ops@example.test exists is unknown',
      ],
    ],
  )
  // One readable record naming the default admin is still a finding, whatever else is encrypted.
  await h.redis((c) => addXoUser(c, 'u3', 'admin@admin.net'))
  assertFails(h.doctor(), 'users', /admin@admin\.net exists/, /delete admin@admin\.net/)
  // What `xoa status` shows comes from the same observation.
  const facts = await observeRedis(h.at(h.spec.redis.socket), h.spec.webAdmin.email)
  assert.deepEqual(
    {
      answers: facts.answers,
      users: facts.users,
      encrypted: facts.encryptedUsers,
      declared: facts.declaredAdmin,
    },
    { answers: true, users: 3, encrypted: 2, declared: undefined },
  )
})

test('a user record of a type upstream never writes: redis ok, users warns what it could not read (no restart fix)', async (t) => {
  const h = await healthyHost(t)
  await h.redis(async (c) => {
    await c.sAdd('xo:user_ids', 'u9')
    await c.rPush('xo:user:u9', 'not a record')
  })
  const run = h.doctor()
  assert.equal(run.status, 0, run.stdout)
  assert.deepEqual(
    only(run.report, 'redis').map((f) => f.level),
    ['ok'],
  )
  const users = only(run.report, 'users')
  assert.deepEqual(
    users.map((f) => f.level),
    ['warn'],
  )
  assert.match(users[0]!.finding, /^Redis answers, but XO's users could not be read: WRONGTYPE/)
  assert.doesNotMatch(users[0]!.fix ?? '', /restart/)
})

test('world-readable key, open secrets → permissions fails with the chmod', async (t) => {
  const h = await healthyHost(t)
  chmodSync(h.at(h.spec.xo.ssl.key), 0o644)
  assertFails(
    h.doctor(),
    'permissions',
    /private key .* readable by every user \(0644\)/,
    /^chmod 600 \/etc\/ssl\/xo\/key\.pem$/,
  )
  chmodSync(h.at(h.spec.xo.ssl.key), 0o600)
  chmodSync(h.at('/var/lib/xo/secrets'), 0o755)
  chmodSync(h.at('/etc/xo-server/config.z-secrets.toml'), 0o644)
  const run = h.doctor()
  assertFails(
    run,
    'permissions',
    /\/var\/lib\/xo\/secrets is open to others/,
    /^chmod 700 \/var\/lib\/xo\/secrets$/,
  )
  assertFails(run, 'permissions', /config\.z-secrets\.toml .* readable by every user/, /chmod o-rwx/)
})

test('data dir owned by root and world-writable → permissions fails with chown and chmod', async (t) => {
  const h = await healthyHost(t)
  const d = h.at(h.spec.xo.dataDir)
  rmSync(d, { recursive: true })
  mkdirSync(d, { mode: 0o777 })
  chmodSync(d, 0o777)
  const run = h.doctor()
  assertFails(run, 'permissions', /not owned by xo/, /^chown xo:xo \/var\/lib\/xo\/data$/)
  assertFails(run, 'permissions', /world-writable \(0777\)/, /^chmod o-rwx /)
})

test('mountsDir a symlink → mount-path fails, fix: remove it and apply', async (t) => {
  const h = await healthyHost(t)
  const m = h.at(h.spec.xo.mountsDir)
  rmSync(m, { recursive: true })
  symlinkSync('/etc', m)
  assertFails(h.doctor(), 'mount-path', /is a symlink/, /^rm \/var\/lib\/xo\/mounts && xoa apply/)
})

test('mountsDir owned by the service (the old layout) → mount-path fails, fix: apply', async (t) => {
  const h = await healthyHost(t)
  chownSync(h.at(h.spec.xo.mountsDir), 65534, 65534)
  chmodSync(h.at(h.spec.xo.mountsDir), 0o750)
  assertFails(h.doctor(), 'mount-path', /uid 65534 mode 0750, not root's and sticky/, /^xoa apply/)
})

test('expiring certificate → warn with xoa cert (exit 0); expired → fail (exit 1); wrong key → fail', async (t) => {
  const h = await healthyHost(t)
  await h.writeCert({ validDays: 10 })
  let run = h.doctor()
  assert.equal(run.status, 0, run.stdout)
  const w = only(run.report, 'certificate')[0]!
  assert.equal(w.level, 'warn')
  assert.match(w.finding, /self-signed by xoa\) expires in (9|10) days/)
  assert.match(w.fix ?? '', /^xoa cert --spec /)

  await h.writeCert({ now: new Date(Date.now() - 3 * DAY), validDays: 1 })
  assertFails(h.doctor(), 'certificate', /expired on/, /^xoa cert/)

  const key = h.at(h.spec.xo.ssl.key)
  const { generateSelfSigned } = await import('../../src/tls/generate.ts')
  const other = await generateSelfSigned({ names: { commonName: 'x', dns: [], ips: [] } })
  await h.writeCert({})
  writeFileSync(key, other.keyPem)
  run = h.doctor()
  assertFails(run, 'certificate', /is not the key of/, /xoa cert/)
})

test('a port taken by another listener → ports fails and names the process', async (t) => {
  const h = await healthyHost(t)
  const squatter = createServer()
  await new Promise<void>((r) => squatter.listen(h.spec.xo.httpsPort, '127.0.0.1', r))
  t.after(() => squatter.close())
  assertFails(
    h.doctor(),
    'ports',
    new RegExp(`port ${h.spec.xo.httpsPort} \\(xo.httpsPort\\) is held by pid ${process.pid} `),
    new RegExp(`stop pid ${process.pid}, or set xo.httpsPort`),
  )
})

test('broker socket with the wrong mode, sshd drop-in missing → fail with their fixes', async (t) => {
  const h = await healthyHost(t)
  chmodSync(h.at(h.spec.mounts.brokerSocket), 0o666)
  rmSync(h.at('/etc/ssh/sshd_config.d/xoa.conf'))
  const run = h.doctor()
  assertFails(run, 'broker', /mode 0666, not 0660/, /systemctl restart xoa-mountd\.socket/)
  assertFails(run, 'sshd', /xoa\.conf is missing/, /^xoa apply/)
})

test('an invalid spec → one spec failure naming the field, exit 1', async (t) => {
  const h = await healthyHost(t)
  writeFileSync(h.specFile, JSON.stringify({ xo: { port: 'eighty' } }))
  const run = h.doctor()
  assertFails(run, 'spec', /xo\.port/, /xoa validate/)
  assert.equal(run.report.findings.length, 1)
})

test('a NixOS host: doctor asks the nixos layout, where bootstrap keeps the secret config under the state dir', async (t) => {
  const h = await healthyHost(t)
  const etc = h.at('/etc/xo-server/config.z-secrets.toml')
  const text = readFileSync(etc, 'utf8')
  unlinkSync(etc)
  const debian = h.doctor()
  assert.ok(
    only(debian.report, 'permissions').some(
      (f) => f.level === 'warn' && /\/etc\/xo-server\/config\.z-secrets\.toml is missing/.test(f.finding),
    ),
    debian.stdout,
  )
  writeFileSync(h.at('/etc/NIXOS'), '')
  const missing = h.doctor()
  assert.ok(
    only(missing.report, 'permissions').some(
      (f) =>
        f.level === 'warn' &&
        /\/var\/lib\/xo\/home\/\.config\/xo-server\/config\.z-secrets\.toml is missing/.test(f.finding),
    ),
    missing.stdout,
  )
  const nixFile = h.at('/var/lib/xo/home/.config/xo-server/config.z-secrets.toml')
  mkdirSync(dirname(nixFile), { recursive: true })
  writeFileSync(nixFile, text, { mode: 0o640 })
  const nixos = h.doctor()
  assert.equal(nixos.status, 0, nixos.stdout)
  assert.deepEqual(
    only(nixos.report, 'permissions').map((f) => f.level),
    ['ok'],
  )
})

test('doctor checks the secrets and dirs the plan describes, with the plan owner and mode', async (t) => {
  const h = await healthyHost(t)
  // One description: doctor's resources are the plan's own (same objects, same owner and mode).
  const plan = desired(h.spec, DEFAULT_RENDER_ENV)
  const model = doctorResources(h.spec, 'systemd')
  assert.deepEqual(
    model.secrets,
    plan.filter((r) => r.kind === 'secret'),
  )
  for (const d of model.dirs)
    assert.ok(
      plan.some((r) => isDeepStrictEqual(r, d)),
      d.path,
    )

  // A secret only the plan's list names (not one doctor used to know): wrong mode fails, missing warns.
  const env = h.at('/var/lib/xo/secrets/xo-server.env')
  chmodSync(env, 0o640)
  assertFails(h.doctor(), 'permissions', /xo-server\.env is readable by others \(0640\)/, /^chmod 600 /)
  unlinkSync(env)
  const missing = only(h.doctor().report, 'permissions')
  assert.ok(
    missing.some(
      (f) =>
        f.level === 'warn' &&
        /xo-server\.env is missing .*xoa bootstrap makes it/.test(f.finding) &&
        f.fix === 'systemctl restart xo-bootstrap',
    ),
    JSON.stringify(missing),
  )
})
