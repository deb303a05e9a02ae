// `xoa upgrade` end to end, in-process, with real parts: the fixture upstream (whose xo-server is the mini
// stand-in), real builds with the shared Node, a real redis-server, real backups, and a ServerControl that
// (re)spawns the current release's server the way systemd restarts xo-server.service.
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { test } from 'node:test'
import type { ServiceControl } from '../../src/backup/services.ts'
import { build } from '../../src/build/builder.ts'
import { Progress } from '../../src/build/progress.ts'
import { currentId, listReleases, previousId, readManifest } from '../../src/build/store.ts'
import { UPGRADE_LOCK } from '../../src/host/layout.ts'
import { ensureWebAdmin, readAdminPassword } from '../../src/run/admin.ts'
import { prepareForeground } from '../../src/run/foreground.ts'
import { checkHealth, localEndpoint, waitHealthy } from '../../src/run/health.ts'
import { rollbackRelease } from '../../src/run/rollback.ts'
import { ensureSecrets } from '../../src/run/secrets.ts'
import { UpgradeError, upgrade } from '../../src/run/upgrade.ts'
import { readLastUpgrade } from '../../src/run/upgrade-record.ts'
import { validateSpec } from '../../src/spec/load.ts'
import { statePaths } from '../../src/spec/paths.ts'
import type { Spec } from '../../src/spec/schema.ts'
import { serverEnvironment } from '../../src/spec/server-env.ts'
import { generateSelfSigned } from '../../src/tls/generate.ts'
import { startRedis } from '../backup/redis-server.ts'
import { runtimeEnv } from '../build/helpers.ts'
import { miniXoClis } from '../fixtures/mini-xo/bundle.ts'
import { freePort, tempDir } from '../helpers.ts'
import { changelogText, commitDate, createUpstream, writePinFile } from './upstream.ts'

/** xo-server of whatever release `current` points at, restarted like systemd would. */
class FixtureServer {
  child: ChildProcess | undefined
  exited = true
  restarts = 0
  stops = 0
  output = ''
  constructor(private readonly spec: Spec) {}

  async stop(): Promise<void> {
    const c = this.child
    if (!c || this.exited) return
    const gone = new Promise((r) => c.once('exit', r))
    c.kill('SIGTERM')
    await gone
  }

  async restart(): Promise<void> {
    await this.stop()
    this.restarts++
    const p = statePaths(this.spec)
    const child = spawn(p.currentNode, [p.currentServer], {
      env: serverEnvironment(this.spec),
      cwd: this.spec.xo.stateDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    this.exited = false
    child.once('exit', () => {
      this.exited = true
    })
    child.stdout!.on('data', (d) => (this.output += d))
    child.stderr!.on('data', (d) => (this.output += d))
    this.child = child
  }

  running = () => !this.exited

  /** What the backup stops and starts for a consistent snapshot. */
  services(): ServiceControl {
    return {
      name: 'fixture xo-server',
      manages: true,
      isActive: async () => this.running(),
      stop: async () => {
        this.stops++
        await this.stop()
      },
      start: () => this.restart(),
    }
  }
}

const sink = new Writable({ write: (_c, _e, cb) => cb() })

test('upgrade: 1.0.0 → 1.2.0 healthy; nothing new changes nothing; a release failing health is rolled back, then held back', async (t) => {
  process.env.XOA_RUNTIME_CACHE = runtimeEnv.XOA_RUNTIME_CACHE
  const root = tempDir(t, 'xoa-upgrade-')
  // As root, builds run as the service account (nobody here): it must reach the checkout and the caches.
  chmodSync(root, 0o755)
  process.env.XOA_TEST_ROOT = root // backups read <root>/etc/xo-server instead of the host's
  const up = createUpstream(join(root, 'upstream'), await miniXoClis())
  const redis = await startRedis(t)
  const pinFile = join(root, 'xo-source.json')
  writePinFile(pinFile, up.dir, up.revs['1.0.0']!, '1.0.0', commitDate(up.dir, up.revs['1.0.0']!))
  const port = await freePort()
  const spec = validateSpec({
    xo: {
      host: '127.0.0.1',
      port,
      httpsPort: port + 1,
      // HTTPS with a certificate to pin: the health gate signs in only there (ping alone otherwise).
      ssl: { dir: join(root, 'ssl'), key: join(root, 'ssl', 'key.pem'), cert: join(root, 'ssl', 'cert.pem') },
      stateDir: join(root, 'state'),
      dataDir: join(root, 'data'),
      tempDir: join(root, 'tmp'),
      mountsDir: join(root, 'mounts'),
    },
    source: { pinFile },
    webAdmin: { email: 'ops@example.test' },
    redis: { socket: redis.socket, dir: redis.dir },
    mounts: { mode: 'none' },
    service: { user: 'nobody', group: 'nogroup' },
  })
  const p = statePaths(spec)
  const tls = await generateSelfSigned({ names: { commonName: 'xo.test', dns: [], ips: ['127.0.0.1'] } })
  mkdirSync(spec.xo.ssl.dir, { recursive: true })
  writeFileSync(spec.xo.ssl.key, tls.keyPem, { mode: 0o600 })
  writeFileSync(spec.xo.ssl.cert, tls.certPem)
  const progress = () => new Progress('plain', join(p.logs, `test-${Date.now()}.log`), sink, sink)
  const log: string[] = []
  const server = new FixtureServer(spec)
  t.after(() => server.stop())
  const run = (extra: { retry?: boolean; channel?: 'stable'; allowDowngrade?: boolean } = {}) =>
    upgrade(spec, {
      control: server,
      services: server.services(),
      healthTimeoutMs: 30_000,
      progress: progress(),
      log: (l) => log.push(l),
      ...extra,
    })
  const backups = () =>
    existsSync(p.backups) ? readdirSync(p.backups).filter((f) => f.endsWith('.tar.gz')) : []
  const pinRev = () => JSON.parse(readFileSync(pinFile, 'utf8')).rev as string
  const admin = async () => ({
    email: 'ops@example.test',
    password: readAdminPassword(spec),
  })
  const currentRev = () => readManifest(join(p.releases, currentId(p)!))!.rev

  // A running 1.0.0, as `xoa apply` leaves a host.
  await build(spec, { switch: true }, progress())
  await prepareForeground(spec, {})
  await ensureSecrets(spec, 'foreground')
  await ensureWebAdmin(spec, { release: join(p.releases, currentId(p)!), env: serverEnvironment(spec) })
  await server.restart()
  assert.equal(
    (await waitHealthy(localEndpoint(spec), await admin(), { timeoutMs: 30_000 })).healthy,
    true,
    server.output,
  )

  await t.test('1.0.0 → 1.2.0 (latest): backup, build, healthy switch, pin rewritten', async () => {
    const { record } = await run()
    assert.equal(record.outcome, 'upgraded', record.reason)
    assert.equal(currentRev(), up.revs['1.2.0'])
    assert.equal(pinRev(), up.revs['1.2.0'])
    assert.equal(backups().length, 1)
    assert.equal(record.backup, join(p.backups, backups()[0]!))
    assert.deepEqual(
      [record.from, record.to],
      [`1.0.0 (${up.revs['1.0.0']!.slice(0, 10)})`, `1.2.0 (${up.revs['1.2.0']!.slice(0, 10)})`],
    )
    assert.equal(record.health?.healthy, true)
    assert.equal(record.health?.signIn, true)
    assert.deepEqual(readLastUpgrade(spec), record)
    assert.equal((await checkHealth(localEndpoint(spec), await admin())).healthy, true)
  })

  await t.test('a scheduled run with nothing new: no build, no backup, no restart, no log file', async () => {
    const releases = listReleases(p).map((r) => r.id)
    const logs = readdirSync(p.logs).sort()
    const restarts = server.restarts
    const stops = server.stops
    const pin = readFileSync(pinFile, 'utf8')
    const { record } = await run()
    assert.equal(record.outcome, 'nothing-to-do')
    assert.match(record.reason ?? '', /already at 1\.2\.0/)
    assert.deepEqual(
      listReleases(p).map((r) => r.id),
      releases,
    )
    assert.equal(backups().length, 1)
    assert.deepEqual([server.restarts, server.stops], [restarts, stops])
    assert.equal(readFileSync(pinFile, 'utf8'), pin)
    assert.deepEqual(readdirSync(p.logs).sort(), logs, 'only upgrade-last.json changed')
    assert.equal(readLastUpgrade(spec)?.outcome, 'nothing-to-do')
  })

  const good = currentId(p)
  const broken = up.add('feat: release 1.3.0 (#10)', {
    'packages/xo-server/src/cli.mjs': "console.error('fixture: crashing on start'); process.exit(3)\n",
    'CHANGELOG.md': changelogText(['1.0.0', '1.1.0', '1.2.0'], '1.2.0', '1.1.0'),
  })

  await t.test(
    '1.2.0 → 1.3.0 whose server crashes: rolled back, 1.2.0 serving, backup present, pin unchanged',
    async () => {
      const err = await run().then(
        () => assert.fail('the upgrade should fail'),
        (e: unknown) => e,
      )
      assert.ok(err instanceof UpgradeError, String(err))
      assert.equal(err.exitCode, 1)
      assert.equal(err.record.outcome, 'rolled-back')
      assert.match(
        err.message,
        /1\.3\.0 was not healthy \(xo-server exited\); .* is current again and healthy/,
      )
      assert.equal(currentId(p), good, 'current points at 1.2.0 again')
      assert.equal(pinRev(), up.revs['1.2.0'], 'the pin still names what is serving')
      assert.equal(backups().length, 2, 'backed up before the switch')
      assert.equal(err.record.toRelease?.rev, broken)
      assert.equal(err.record.restored?.healthy, true)
      assert.match(server.output, /fixture: crashing on start/)
      assert.equal((await checkHealth(localEndpoint(spec), await admin())).healthy, true)
      assert.equal(readLastUpgrade(spec)?.outcome, 'rolled-back')
    },
  )

  await t.test('the next scheduled run holds the failed release back: no backup, no restart', async () => {
    const restarts = server.restarts
    const err = await run().then(
      () => assert.fail('held back is a failure'),
      (e: unknown) => e,
    )
    assert.ok(err instanceof UpgradeError)
    assert.equal(err.record.outcome, 'held-back')
    assert.match(err.message, /failed its health check before/)
    assert.equal(server.restarts, restarts)
    assert.equal(backups().length, 2)
    assert.equal(currentId(p), good)
  })

  // Issue 12: `xoa rollback` is the same health-gated switch (systemd's role played by the fixture control).
  const releaseOf = (version: string) => listReleases(p).find((r) => r.manifest.version === version)!.id
  await t.test(
    'rollback to a release that is not healthy (1.3.0): switched back, 1.2.0 serving',
    async () => {
      assert.equal(previousId(p), releaseOf('1.3.0'), 'the failed upgrade left 1.3.0 as previous')
      const restarts = server.restarts
      const err = await rollbackRelease(spec, undefined, {
        control: server,
        admin: await admin(),
        healthTimeoutMs: 30_000,
      }).then(
        () => assert.fail('an unhealthy rollback target is an error'),
        (e: unknown) => e as Error,
      )
      assert.match(
        err.message,
        /1\.3\.0-.* was not healthy after the restart \(xo-server exited\); .* is current and serving again/,
      )
      assert.equal(currentId(p), good)
      assert.equal(server.restarts, restarts + 2, 'restarted on 1.3.0, then on 1.2.0 again')
      assert.equal((await checkHealth(localEndpoint(spec), await admin())).healthy, true)
    },
  )

  await t.test(
    'rollback to 1.0.0: xo-server restarted on it and healthy; the pin note says how to stay',
    async () => {
      const restarts = server.restarts
      // xo-build runs at every xo-server restart: it must see the upgrade lock held, or it switches back.
      const holders: (number | undefined)[] = []
      const control = {
        restart: async () => {
          const lock = join(spec.xo.stateDir, UPGRADE_LOCK)
          holders.push(existsSync(lock) ? Number(readFileSync(lock, 'utf8')) : undefined)
          await server.restart()
        },
        running: () => server.running(),
      }
      const r = await rollbackRelease(spec, releaseOf('1.0.0'), {
        control,
        admin: await admin(),
        healthTimeoutMs: 30_000,
      })
      assert.deepEqual(
        [r.from, r.to, r.health?.healthy, r.health?.signIn],
        [good, releaseOf('1.0.0'), true, true],
      )
      assert.equal(currentRev(), up.revs['1.0.0'])
      assert.equal(previousId(p), good)
      assert.equal(server.restarts, restarts + 1)
      assert.deepEqual(holders, [process.pid], 'the upgrade lock is held across the restart')
      assert.match(
        r.pinNote ?? '',
        new RegExp(
          `still names ${up.revs['1.2.0']!.slice(0, 10)}: .*xoa update --rev ${up.revs['1.0.0']!.slice(0, 12)}`,
        ),
      )
    },
  )

  await t.test(
    'rollback without a control (no systemd): the link moves, nothing restarted, the restart said',
    async () => {
      const restarts = server.restarts
      const r = await rollbackRelease(spec, undefined, {
        healthTimeoutMs: 30_000,
        foreground: { running: true, pid: server.child?.pid },
      })
      assert.equal(r.to, good)
      assert.equal(currentId(p), good)
      assert.equal(server.restarts, restarts, 'xoa did not restart what it does not manage')
      assert.equal(r.health, undefined)
      assert.match(r.restart ?? '', /still runs 1\.0\.0-.*: stop `xoa up` .* then start `xoa up --no-build`/)
      await server.restart()
      assert.equal(
        (await waitHealthy(localEndpoint(spec), await admin(), { timeoutMs: 30_000 })).healthy,
        true,
      )
    },
  )

  await t.test(
    'stable (1.1.0) is behind the pin (1.2.0): nothing to do; --allow-downgrade goes back',
    async () => {
      const releases = listReleases(p).length
      const { record } = await run({ channel: 'stable' })
      assert.equal(record.outcome, 'nothing-to-do')
      assert.match(record.reason ?? '', /not newer than 1\.2\.0; .*--allow-downgrade/)
      assert.equal(listReleases(p).length, releases, 'nothing built')
      assert.equal(pinRev(), up.revs['1.2.0'])
      const down = await run({ channel: 'stable', allowDowngrade: true })
      assert.equal(down.record.outcome, 'upgraded', down.record.reason)
      assert.equal(currentRev(), up.revs['1.1.0'])
      assert.equal(pinRev(), up.revs['1.1.0'])
      assert.equal(down.record.health?.healthy, true)
    },
  )
})
