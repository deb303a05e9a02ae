// The pure parts of status, doctor and logs: parsers of systemctl and /proc text, the journalctl command,
// what status calls a problem, the one-screen format.
import assert from 'node:assert/strict'
import { utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { validateSpec } from '../../src/spec/load.ts'
import { duration, formatStatus } from '../../src/status/format.ts'
import { journalctlCommand, newestBuildLog, shellLine, tailCommand } from '../../src/status/logs.ts'
import { listeningInodes, mountsUnder } from '../../src/status/procfs.ts'
import { parseShow } from '../../src/status/server.ts'
import { type StatusReport, statusProblems } from '../../src/status/status.ts'
import { tempDir } from '../helpers.ts'

test('parseShow reads state, unix timestamp and main PID', () => {
  const u = parseShow(
    'ActiveState=active\nActiveEnterTimestamp=@1767225600\nMainPID=4242\nUnitFileState=enabled\n',
  )
  assert.deepEqual(u, {
    activeState: 'active',
    since: '2026-01-01T00:00:00.000Z',
    mainPid: 4242,
    unitFileState: 'enabled',
  })
  assert.deepEqual(parseShow('ActiveState=failed\nActiveEnterTimestamp=\nMainPID=0\n'), {
    activeState: 'failed',
    since: undefined,
    mainPid: undefined,
    unitFileState: undefined,
  })
})

test('listeningInodes keeps LISTEN sockets on the port only', () => {
  const tcp = [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 0100007F:01BB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 111 1 0 100 0 0 10 0',
    '   1: 0100007F:01BB 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 222 1 0 100 0 0 10 0',
    '   2: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 333 1 0 100 0 0 10 0',
  ].join('\n')
  assert.deepEqual(listeningInodes(tcp, 443), ['111'])
  assert.deepEqual(listeningInodes(tcp, 80), ['333'])
  assert.deepEqual(listeningInodes(tcp, 8080), [])
})

test('mountsUnder: mounts at or below the dir, octal escapes decoded', () => {
  const info = [
    '22 1 0:21 / / rw,relatime - ext4 /dev/sda1 rw',
    '90 22 0:50 / /var/lib/xo/mounts/r1 rw,nosuid,nodev - nfs4 nas:/backups rw,vers=4.2',
    '91 22 0:51 / /var/lib/xo/mounts/with\\040space rw - tmpfs tmp\\040fs rw',
    '92 22 0:52 / /var/lib/xo/mountsX rw - tmpfs x rw',
  ].join('\n')
  assert.deepEqual(mountsUnder(info, '/var/lib/xo/mounts'), [
    { type: 'nfs4', source: 'nas:/backups', target: '/var/lib/xo/mounts/r1' },
    { type: 'tmpfs', source: 'tmp fs', target: '/var/lib/xo/mounts/with space' },
  ])
})

test('journalctlCommand: the seed xoa-logs.sh units, -e, -n, -f; broker adds xoa-mountd; bad names refused', () => {
  const broker = validateSpec({})
  const none = validateSpec({ mounts: { mode: 'none' } })
  assert.deepEqual(journalctlCommand(broker, { follow: true }), [
    'journalctl',
    '-u',
    'xo-build',
    '-u',
    'xo-server',
    '-u',
    'redis-xo',
    '-u',
    'xo-bootstrap',
    '-u',
    'xoa-mountd',
    '-e',
    '-f',
  ])
  assert.deepEqual(journalctlCommand(none, { follow: false, lines: 50 }), [
    'journalctl',
    '-u',
    'xo-build',
    '-u',
    'xo-server',
    '-u',
    'redis-xo',
    '-u',
    'xo-bootstrap',
    '-e',
    '-n',
    '50',
  ])
  assert.deepEqual(journalctlCommand(none, { follow: false, units: ['xo-server'] }), [
    'journalctl',
    '-u',
    'xo-server',
    '-e',
  ])
  assert.throws(() => journalctlCommand(none, { follow: false, units: ['x; rm -rf /'] }), /not a unit name/)
  assert.equal(shellLine(['tail', '-n', '5', '/a b']), "tail -n 5 '/a b'")
  assert.deepEqual(tailCommand('/l', { follow: true }), ['tail', '-n', '200', '-F', '/l'])
})

test('newestBuildLog picks the most recently written build log', (t) => {
  const dir = tempDir(t)
  assert.equal(newestBuildLog(join(dir, 'missing')), undefined)
  for (const [n, s] of [
    ['build-a.log', 100],
    ['build-b.log', 300],
    ['other.log', 500],
  ] as const) {
    writeFileSync(join(dir, n), n)
    utimesSync(join(dir, n), s, s)
  }
  assert.equal(newestBuildLog(dir), join(dir, 'build-b.log'))
})

const healthy: Omit<StatusReport, 'ok' | 'problems'> = {
  mode: 'systemd',
  release: {
    current: {
      id: 'r1',
      version: '6.7.1',
      rev: '40dede9e11c9',
      node: '22.23.3',
      builtAt: '2026-08-21T10:00:00Z',
      complete: true,
    },
  },
  server: {
    running: true,
    supervisor: 'systemd',
    activeState: 'active',
    pid: 7,
    since: '2026-08-21T10:00:00Z',
    uptimeSeconds: 3 * 3600 + 120,
  },
  health: { healthy: true, ping: true, signIn: true, url: 'https://127.0.0.1:443', signInTried: true },
  redis: {
    socket: '/run/redis-xo/redis.sock',
    answers: true,
    keys: 12,
    users: 1,
    aof: true,
    evictionPolicy: 'noeviction',
  },
  certificate: { enabled: false },
  mounts: [],
}

test('statusProblems: none when healthy; each failure named', () => {
  assert.deepEqual(statusProblems(healthy), [])
  const bad = statusProblems({
    ...healthy,
    release: {},
    server: { running: false, supervisor: 'systemd', activeState: 'failed' },
    health: undefined,
    redis: { socket: '/s', answers: false },
    lastUpgrade: { outcome: 'rolled back', when: '2026-08-21' },
  })
  assert.deepEqual(bad, [
    'no current release (xoa build)',
    'xo-server is not running (failed)',
    'Redis does not answer on /s',
    'the last upgrade (2026-08-21) ended: rolled back',
  ])
  // A scheduled upgrade that keeps holding a failed release back is said, with the record's reason.
  const held = statusProblems({
    ...healthy,
    lastUpgrade: {
      outcome: 'held-back',
      reason: '1.3.0 (abc) failed its health check before; not trying again',
    },
  })
  assert.deepEqual(held, [
    'the last upgrade ended: held-back — 1.3.0 (abc) failed its health check before; not trying again',
  ])
})

test('formatStatus: one line per part, then healthy or the problems', () => {
  const lines = formatStatus({ ...healthy, ok: true, problems: [] })
  assert.match(lines.join('\n'), /^xo-server\s+running, pid 7, up 3 h 2 min \(systemd: active\)$/m)
  assert.match(
    lines.join('\n'),
    /^release\s+r1 {2}\(6\.7\.1, rev 40dede9e11, node 22\.23\.3, built 2026-08-21 10:00\)$/m,
  )
  assert.equal(lines.at(-1), 'healthy')
  // Ping only (no HTTPS, or no certificate to pin): the health line says why sign-in was not checked.
  const pingOnly = formatStatus({
    ...healthy,
    health: {
      healthy: true,
      ping: true,
      signIn: undefined,
      signInSkipped: 'HTTPS is off',
      url: 'http://x',
      signInTried: true,
    },
    ok: true,
    problems: [],
  })
  assert.match(pingOnly.join('\n'), /^health\s+http:\/\/x {2}ping ok, sign-in not checked: HTTPS is off$/m)
  assert.equal(duration(59), '59 s')
  assert.equal(duration(90061), '1 d 1 h')
})
