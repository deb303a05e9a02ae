// Issue 12, "upgrades under systemd, proven": after `xoa apply` converges in the nspawn Debian 12, the scheduled
// unit (`systemctl start xoa-update.service`, the command line the timer runs) upgrades to a healthy new
// release of the fixture source, and a release that builds but crashes on start is rolled back automatically:
// xo-server serves the previous release again, the next run holds the target back, and `xoa status` says so.
// One boot; the source is the fixture monorepo only (new releases are commits the test makes in it).
import assert from 'node:assert/strict'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { commit } from '../fixtures/monorepo.ts'
import { bootContainer, CONTAINER_XOA, type Container, nspawnSkipReason } from '../harness/nspawn.ts'
import { freePort } from '../helpers.ts'
import { httpsGet } from './probes.ts'
import { systemTestSource } from './source.ts'

const source = await systemTestSource()
const fixture = 'skip' in source ? undefined : source.fixtureDir
const skip =
  nspawnSkipReason() ??
  ('skip' in source ? source.skip : fixture ? undefined : 'needs the fixture source (XO_SOURCE_URL is set)')

const HOSTNAME = 'xoa-test.lan'
const STATE = '/var/lib/xo'
const CERT = '/etc/ssl/xo/certificate.pem'
const SPEC = '/etc/xoa/xoa.toml'
const PIN = '/etc/xoa/xo-source.json'
const XOA = ['node', CONTAINER_XOA]
const SERVER_CLI = 'packages/xo-server/src/cli.mjs'
/** What the healthy new release's xo-server prints first: the journal of the serving process proves which. */
const MARK_110 = 'fixture: xo-server of release 1.1.0'

describe('xoa upgrade under systemd (nspawn)', { skip }, () => {
  let c: Container
  let https = 443
  const started = Date.now()
  const revs: Record<string, string> = {}

  before(async () => {
    if (skip || !fixture || 'skip' in source) return
    const ports = { http: await freePort(), https: await freePort() }
    https = ports.https
    c = await bootContainer({ network: 'host', binds: source.binds })
    await c.waitForSystem()
    mkdirSync(join(c.root, 'etc', 'xoa'), { recursive: true })
    // The host pin names the fixture's first release; the timer follows `latest` (the default channel).
    writeFileSync(
      join(c.root, PIN.slice(1)),
      `${JSON.stringify({ url: source.url, rev: source.rev, version: '1.0.0', channel: 'latest' }, null, 2)}\n`,
    )
    writeFileSync(
      join(c.root, SPEC.slice(1)),
      [
        '[xo]',
        'host = "127.0.0.1"',
        `hostname = "${HOSTNAME}"`,
        `port = ${ports.http}`,
        `httpsPort = ${ports.https}`,
        '[source]',
        `pinFile = "${PIN}"`,
        '[admin]',
        'enable = false',
        '[webAdmin]',
        'email = "admin@xoa-test.lan"',
        '[mounts]',
        'mode = "none"',
        '[updates]',
        // Renders xoa-update.service/.timer; a date that never comes during a run: the test starts the unit.
        'schedule = "*-12-25 03:00:00"',
        '',
      ].join('\n'),
    )
    revs['1.0.0'] = source.rev ?? ''
  })

  after(async () => {
    await c?.destroy()
    if (!('skip' in source)) source.dispose?.()
  })

  /** The scheduled unit, started by hand: systemctl waits for the oneshot and fails when xoa upgrade did. */
  const runUnit = () => c.exec(['systemctl', 'start', 'xoa-update.service'], { timeoutMs: 20 * 60_000 })
  const lastUpgrade = async () =>
    JSON.parse(await readIn(c, `${STATE}/logs/upgrade-last.json`)) as {
      outcome: string
      reason?: string
      toRelease?: { rev: string; version: string }
      backup?: string
    }
  const current = async () => (await c.exec(['readlink', `${STATE}/current`])).stdout.trim()
  const backups = async () =>
    (await c.sh(`ls -1 ${STATE}/backups 2>/dev/null | grep -c '\\.tar\\.gz$' || true`)).stdout.trim()
  /** The pid systemd runs xo-server as, once it answers a verified HTTPS ping. */
  const serving = async () => {
    const p = await until(
      () => httpsGet(c, { port: https, hostname: HOSTNAME, path: '/rest/v0/ping', ca: CERT }),
      (r) => r.code === 200,
    )
    assert.equal(p.code, 200, `${p.body}\n${await unitStatus(c)}`)
    const pid = (await c.exec(['systemctl', 'show', '-p', 'MainPID', '--value', 'xo-server'])).stdout.trim()
    assert.match(pid, /^[1-9]\d*$/)
    return pid
  }
  /** What that process printed (journald may lag a little behind it). */
  const printed = (pid: string, mark: string) =>
    until(
      () => c.exec(['journalctl', '--no-pager', '-o', 'cat', '-u', 'xo-server', `_PID=${pid}`]),
      (r) => r.stdout.includes(mark),
      15_000,
    ).then((r) => r.stdout)

  test('xoa apply converges with the update units in place', async (t) => {
    t.diagnostic(`source: ${'skip' in source ? '' : source.label}`)
    const t0 = Date.now()
    const r = await c.exec([...XOA, 'apply', '--spec', SPEC, '--yes'], { timeoutMs: 45 * 60_000 })
    t.diagnostic(`apply took ${((Date.now() - t0) / 1000).toFixed(0)} s`)
    assert.equal(r.status, 0, `xoa apply failed:\n${r.stdout}\n${r.stderr}\n${await unitStatus(c)}`)
    const timer = await c.exec(['systemctl', 'is-enabled', 'xoa-update.timer'])
    assert.equal(timer.stdout.trim(), 'enabled', timer.stderr)
    await serving()
  })

  test('the timer’s unit switches to a healthy new release (1.1.0), and xo-server serves it', async (t) => {
    const dir = fixture!
    const cli = readFileSync(join(dir, SERVER_CLI), 'utf8')
    writeFileSync(join(dir, SERVER_CLI), `console.log(${JSON.stringify(MARK_110)})\n${cli}`)
    revs['1.1.0'] = commit(dir, 'feat: release 1.1.0 (#2)')
    const before = await current()
    const t0 = Date.now()
    const r = await runUnit()
    t.diagnostic(`upgrade to 1.1.0 took ${((Date.now() - t0) / 1000).toFixed(0)} s`)
    const rec = await lastUpgrade()
    assert.equal(r.status, 0, `${r.stderr}\n${JSON.stringify(rec)}\n${await unitStatus(c, true)}`)
    assert.equal(rec.outcome, 'upgraded', rec.reason)
    assert.equal(rec.toRelease?.rev, revs['1.1.0'])
    assert.notEqual(await current(), before, 'current did not move')
    assert.equal(JSON.parse(await readIn(c, PIN)).rev, revs['1.1.0'], 'the pin names what serves')
    assert.equal(await backups(), '1', 'one backup, taken before the switch')
    const pid = await serving()
    assert.match(await printed(pid, MARK_110), new RegExp(MARK_110))
    // xo-server's restarts started xo-build.service, which left the switch to the upgrade.
    const build = await c.exec(['journalctl', '--no-pager', '-o', 'cat', '-u', 'xo-build'])
    assert.match(build.stdout, /xoa upgrade or rollback \(pid \d+\) is running and owns the switch/)
  })

  test('a release that builds but crashes (1.2.0) is rolled back: 1.1.0 serves again', async (t) => {
    const dir = fixture!
    writeFileSync(join(dir, SERVER_CLI), "console.error('fixture: crashing on start'); process.exit(3)\n")
    revs['1.2.0'] = commit(dir, 'feat: release 1.2.0 (#3)')
    const good = await current()
    // The unit's own command line with a shorter health timeout (180 s by default): same unit, same sandbox.
    const unit = await readIn(c, '/etc/systemd/system/xoa-update.service')
    const exec = /^ExecStart=(.*)$/m.exec(unit)?.[1]
    assert.ok(exec, unit)
    const dropIn = '/run/systemd/system/xoa-update.service.d'
    const set = await c.sh(
      `mkdir -p ${dropIn} && printf '[Service]\\nExecStart=\\nExecStart=%s --health-timeout 45\\n' '${exec}' > ${dropIn}/health.conf && systemctl daemon-reload`,
    )
    assert.equal(set.status, 0, set.stderr)
    const t0 = Date.now()
    const r = await runUnit()
    t.diagnostic(`failed upgrade and rollback took ${((Date.now() - t0) / 1000).toFixed(0)} s`)
    const rec = await lastUpgrade()
    assert.notEqual(r.status, 0, 'a rolled-back upgrade fails the unit')
    assert.equal(rec.outcome, 'rolled-back', JSON.stringify(rec))
    assert.equal(rec.toRelease?.rev, revs['1.2.0'])
    assert.match(rec.reason ?? '', /1\.2\.0 was not healthy .* is current again and healthy/)
    assert.equal(await current(), good, 'current points at 1.1.0 again')
    assert.equal(JSON.parse(await readIn(c, PIN)).rev, revs['1.1.0'], 'the pin is unchanged')
    assert.equal(await backups(), '2', 'backed up before the switch')
    const journal = await c.exec(['journalctl', '--no-pager', '-o', 'cat', '-u', 'xo-server'])
    assert.match(journal.stdout, /fixture: crashing on start/, 'the 1.2.0 server never ran')
    const pid = await serving()
    assert.match(await printed(pid, MARK_110), new RegExp(MARK_110))
  })

  test('the next run holds 1.2.0 back, and xoa status says so', async (t) => {
    const good = await current()
    const pid = await serving()
    const r = await runUnit()
    const rec = await lastUpgrade()
    assert.notEqual(r.status, 0, 'held back fails the unit')
    assert.equal(rec.outcome, 'held-back', JSON.stringify(rec))
    assert.match(rec.reason ?? '', /1\.2\.0 .* failed its health check before; not trying again/)
    assert.equal(await current(), good)
    assert.equal(await backups(), '2', 'no backup for a held-back run')
    assert.equal(await serving(), pid, 'xo-server was not restarted')
    const status = await c.exec([...XOA, 'status', '--spec', SPEC])
    assert.notEqual(status.status, 0, `${status.stdout}\n${status.stderr}`)
    assert.match(
      `${status.stdout}\n${status.stderr}`,
      /the last upgrade .*ended: held-back — 1\.2\.0 .* failed its health check before/,
    )
    t.diagnostic(`suite wall time: ${((Date.now() - started) / 1000).toFixed(0)} s`)
  })
})

/** Poll a check until it passes or the time is up; returns the last result for the assertion to explain. */
async function until<T>(fn: () => Promise<T>, ok: (r: T) => boolean, ms = 120_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const r = await fn()
    if (ok(r) || Date.now() > deadline) return r
    await new Promise((res) => setTimeout(res, 1000))
  }
}

async function readIn(c: Container, path: string): Promise<string> {
  const r = await c.exec(['cat', path])
  assert.equal(r.status, 0, r.stderr)
  return r.stdout
}

/** What a person would look at when a step fails: unit states and the journal of xoa's units. */
async function unitStatus(c: Container, update = false): Promise<string> {
  const units = ['redis-xo', 'xo-build', 'xo-bootstrap', 'xo-server', ...(update ? ['xoa-update'] : [])]
  const status = await c.exec(['systemctl', 'status', '--no-pager', '--lines=0', ...units])
  const journal = await c.exec(['journalctl', '--no-pager', '-n', '80', ...units.flatMap((u) => ['-u', u])])
  return `${status.stdout}\n${journal.stdout}`
}
