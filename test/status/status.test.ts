// `xoa status --json` and `xoa doctor` against a running fixture XO started by the real `xoa up` (as in
// test/run/up.test.ts), then after it stopped; and `xoa logs` without systemd, on the build log it left.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdirSync, readlinkSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { test } from 'node:test'
import { miniXoClis } from '../fixtures/mini-xo/bundle.ts'
import { createFixture } from '../fixtures/monorepo.ts'
import { tempDir, xoa } from '../helpers.ts'
import { startUp, upSpec } from '../run/xoa-up.ts'
import { freePort } from './host.ts'

async function fixtureSpec(t: { after(fn: () => void): void }) {
  const root = tempDir(t, 'xoa-status-')
  chmodSync(root, 0o755) // the service account (nobody) must reach the release through it
  const src = join(root, 'src')
  const rev = createFixture(src, await miniXoClis())
  const state = join(root, 'state')
  const https = await freePort()
  const specFile = join(root, 'xoa.json')
  writeFileSync(
    specFile,
    JSON.stringify(
      upSpec(root, { ports: { http: await freePort(), https }, state, source: { url: src, rev } }),
    ),
  )
  return { root, state, specFile, https }
}

test('xoa status --json reflects a running fixture XO; doctor agrees; after stop, status exits 1', async (t) => {
  const s = await fixtureSpec(t)
  const up = startUp(s.specFile)
  t.after(() => up.kill())
  await up.ready

  // A real mount under mountsDir, and the record another part of xoa leaves after `xoa upgrade`.
  const mnt = join(s.root, 'mounts', 'remote-1')
  mkdirSync(mnt)
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'xoa-test', mnt]).status === 0
  const upgrade = { when: '2026-08-21T10:00:00Z', outcome: 'upgraded', from: 'a', to: 'b' }
  writeFileSync(join(s.state, 'logs', 'upgrade-last.json'), JSON.stringify(upgrade))

  const run = xoa(['status', '--json', '--spec', s.specFile])
  assert.equal(run.status, 0, run.stdout + run.stderr)
  const st = JSON.parse(run.stdout)
  assert.equal(st.ok, true)
  assert.deepEqual(st.problems, [])
  assert.equal(st.mode, 'foreground')
  assert.equal(st.release.current.id, basename(readlinkSync(join(s.state, 'current'))))
  assert.equal(st.release.current.complete, true)
  assert.match(st.release.current.node, /^\d+\.\d+\.\d+$/)
  assert.equal(st.server.running, true)
  assert.equal(st.server.supervisor, 'none')
  assert.ok(st.server.pid > 0 && st.server.uptimeSeconds >= 0, JSON.stringify(st.server))
  assert.deepEqual(
    { healthy: st.health.healthy, ping: st.health.ping, signIn: st.health.signIn },
    { healthy: true, ping: true, signIn: true },
  )
  assert.equal(st.health.url, `https://127.0.0.1:${s.https}`)
  assert.equal(st.redis.answers, true)
  assert.equal(st.redis.users, 1)
  assert.equal(st.redis.aof, true)
  assert.equal(st.certificate.generatedByXoa, true)
  assert.ok(st.certificate.daysLeft > 800)
  assert.deepEqual(st.lastUpgrade, upgrade)
  // Unmounted here, not in t.after: after-hooks run first-registered first, and the temp dir goes before.
  spawnSync('umount', [mnt])
  if (mounted) assert.deepEqual(st.mounts, [{ type: 'tmpfs', source: 'xoa-test', target: mnt }])

  const human = xoa(['status', '--spec', s.specFile])
  assert.equal(human.status, 0)
  assert.match(human.stdout, /xo-server\s+running, pid \d+, up .* \(not under systemd\)/)
  assert.match(human.stdout, /admin signs in/)
  assert.match(human.stdout, /^healthy$/m)

  // Doctor on the same host: xo-server holds its ports, the declared admin signs in, nothing fails.
  const doc = xoa(['doctor', '--json', '--spec', s.specFile])
  const report = JSON.parse(doc.stdout)
  const fails = report.findings.filter((f: { level: string }) => f.level === 'fail')
  assert.deepEqual(fails, [], doc.stdout)
  assert.equal(doc.status, 0)
  const health = report.findings.find((f: { check: string }) => f.check === 'health')
  assert.equal(health.level, 'ok', JSON.stringify(health))
  assert.ok(
    report.findings.some(
      (f: { check: string; finding: string }) => f.check === 'ports' && /xo-server listens/.test(f.finding),
    ),
  )

  up.child.kill('SIGTERM')
  await up.exited
  const after = xoa(['status', '--json', '--spec', s.specFile])
  assert.equal(after.status, 1)
  const down = JSON.parse(after.stdout)
  assert.equal(down.server.running, false)
  assert.ok(down.problems.includes('xo-server is not running'), down.problems)
  assert.ok(
    down.problems.some((p: string) => /Redis does not answer/.test(p)),
    down.problems,
  )
  assert.match(xoa(['status', '--spec', s.specFile]).stdout, /problems:\n {2}- xo-server is not running/)

  // Without systemd, `xoa logs` shows the newest build log and says where the rest goes.
  const logs = xoa(['logs', '-n', '5', '--spec', s.specFile])
  assert.equal(logs.status, 0, logs.stderr)
  assert.match(logs.stderr, /xoa up logs xo-server and Redis to its own stdout/)
  assert.ok(logs.stdout.split('\n').filter(Boolean).length <= 5)
  const printed = xoa(['logs', '-n', '5', '--print', '--spec', s.specFile])
  assert.match(printed.stdout, new RegExp(`^tail -n 5 ${join(s.state, 'logs')}/build-[^ ]+\\.log\\n$`))
})
