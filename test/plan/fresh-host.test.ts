// Issue 11: what apply meets on a fresh machine. A prefix without account databases, a validator whose tool is
// not installed, the packages the spec needs, and the stock Redis doctor warns about — each a clear message,
// never a crash. (The live-host order, packages → validate → the rest, is proven in test/system/apply.test.ts.)
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { diff } from '../../src/plan/diff.ts'
import { packagesFor, stockUnitsFor } from '../../src/plan/packages.ts'
import { validateCandidate } from '../../src/plan/validate.ts'
import { DEBIAN } from '../../src/platform/debian.ts'
import { setCurrentPlatform } from '../../src/platform/load.ts'
import { parseSpecText, validateSpec } from '../../src/spec/load.ts'
import { classify, probeRedis, stockRedisPort } from '../../src/status/doctor/stock-redis.ts'
import { XoaError } from '../../src/util/errors.ts'
import { freePort, REPO, tempDir, xoa } from '../helpers.ts'

const EXAMPLE = `${REPO}/examples/xoa.toml`

test('apply --root into an empty dir says what the prefix lacks and changes nothing', {
  skip: process.getuid?.() !== 0 ? 'apply needs root' : undefined,
}, (t) => {
  const dir = tempDir(t)
  const r = xoa(['apply', '--spec', EXAMPLE, '--root', dir, '--yes'])
  assert.equal(r.status, 1, r.stderr)
  assert.match(r.stderr, /lacks etc\/passwd \(missing\), etc\/group \(missing\)/)
  assert.doesNotMatch(r.stderr, /cannot lock|unexpected error/)
  assert.deepEqual(readdirSync(dir), [], 'apply wrote into a prefix it refused')
})

test('a validator whose tool is not installed names the package instead of crashing', async (t) => {
  // A Debian whose ssh-keygen and systemd-analyze are not where the platform says.
  const gone = tempDir(t)
  setCurrentPlatform({
    ...DEBIAN,
    tools: {
      ...DEBIAN.tools,
      'ssh-keygen': `${gone}/ssh-keygen`,
      'systemd-analyze': `${gone}/systemd-analyze`,
    },
  })
  t.after(() => setCurrentPlatform(undefined))
  const ctx = { units: [], providedLater: [] }
  await assert.rejects(
    validateCandidate(
      { path: '/etc/ssh/sshd_config.d/xoa.conf', content: 'PermitRootLogin no\n', validate: 'sshd' },
      ctx,
    ),
    (e: unknown) =>
      e instanceof XoaError &&
      e.message.includes(
        `needs \`ssh-keygen\` at ${gone}/ssh-keygen (platform debian), which is not installed`,
      ) &&
      /openssh-client/.test(e.hint ?? ''),
  )
  await assert.rejects(
    validateCandidate(
      {
        path: '/etc/systemd/system/x.service',
        content: '[Service]\nExecStart=/bin/true\n',
        validate: 'systemd-unit',
      },
      ctx,
    ),
    (e: unknown) =>
      e instanceof XoaError &&
      /systemd-analyze/.test(e.message) &&
      /apt-get install systemd/.test(e.hint ?? ''),
  )
})

test('openssh-server is a package exactly when apply installs the sshd drop-in', () => {
  const spec = (toml: string) => validateSpec(parseSpecText(toml, 'xoa.toml'))
  assert.ok(packagesFor(spec('')).includes('openssh-server'))
  assert.ok(packagesFor(spec('')).includes('sudo'), 'visudo validates every sudoers file')
  assert.ok(!packagesFor(spec('[admin]\nsshd = false')).includes('openssh-server'))
  assert.ok(!packagesFor(spec('[admin]\nenable = false')).includes('openssh-server'))
})

test("redis-server's stock unit is masked only when apply installs the package", () => {
  assert.deepEqual(
    stockUnitsFor(['git', 'redis-server']).map((u) => u.unit),
    ['redis-server.service'],
  )
  assert.deepEqual(stockUnitsFor(['git', 'sudo']), [])
})

test('the stock port: Redis default 6379, the config value, none for port 0', () => {
  assert.equal(stockRedisPort(undefined), 6379)
  assert.equal(stockRedisPort('bind 127.0.0.1\nport 6380\n'), 6380)
  assert.equal(stockRedisPort('# port 1\nport 0\n'), undefined)
  assert.equal(classify(undefined), 'none')
  assert.equal(classify('-NOAUTH Authentication required.\r\n'), 'auth')
})

/** A real redis-server on a free loopback port; its config (and any password) on stdin, never on argv. */
async function tcpRedis(t: { after(fn: () => unknown): void }, extra: string): Promise<number> {
  const port = await freePort()
  const dir = tempDir(t)
  const child: ChildProcess = spawn('redis-server', ['-'], { stdio: ['pipe', 'ignore', 'inherit'] })
  child.stdin?.end(`port ${port}\nbind 127.0.0.1\ndir ${dir}\nsave ""\nappendonly no\n${extra}\n`)
  t.after(() => {
    child.kill('SIGKILL')
  })
  for (let i = 0; i < 200 && (await probeRedis(port)) === 'none'; i++) await sleep(25)
  return port
}

test('doctor tells an open Redis on TCP from one that wants a password (real redis-server)', async (t) => {
  assert.equal(await probeRedis(await freePort()), 'none')
  assert.equal(await probeRedis(await tcpRedis(t, '')), 'open')
  assert.equal(await probeRedis(await tcpRedis(t, 'requirepass test-only-not-a-secret')), 'auth')
})

test('the plan says the stock unit is masked before its package is installed', () => {
  const ctx = { live: true, systemd: true }
  const [redis, git, present] = diff(
    [
      { kind: 'package', name: 'redis-server' },
      { kind: 'package', name: 'git' },
      { kind: 'package', name: 'redis-server' },
    ],
    [
      { kind: 'package', installed: false },
      { kind: 'package', installed: false },
      { kind: 'package', installed: true },
    ],
    ctx,
  )
  assert.deepEqual(redis?.details, ['apt-get install', 'mask redis-server.service first'])
  assert.deepEqual(git?.details, ['apt-get install'])
  // Installed before xoa: the unit is the admin's, and apply leaves it alone.
  assert.equal(present?.action, 'ok')
})
