// Smoke tests of the nspawn harness against a real Debian 12 systemd, using only what already works:
// boot, the bound Node and CLI, a hardened unit seeing a mount made after it started, and a reboot keeping state.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import {
  bootContainer,
  CONTAINER_XOA,
  type Container,
  ensureRootfs,
  nspawnSkipReason,
} from '../harness/nspawn.ts'

const skip = nspawnSkipReason()

describe('a real systemd in nspawn', { skip }, () => {
  let c: Container
  const notes: string[] = []

  before(async () => {
    const rootfs = await ensureRootfs({ log: (l) => notes.push(l) })
    notes.push(rootfs.built ? `rootfs built in ${rootfs.seconds.toFixed(0)} s` : 'rootfs reused from cache')
    const t0 = Date.now()
    c = await bootContainer({ log: (l) => notes.push(l) })
    await c.waitForSystem()
    notes.push(`boot to running in ${((Date.now() - t0) / 1000).toFixed(1)} s (root: ${c.layer})`)
  })
  after(async () => {
    await c?.destroy()
  })

  test('boots to running', async (t) => {
    for (const n of notes) t.diagnostic(n)
    const r = await c.exec(['systemctl', 'is-system-running'])
    assert.equal(r.stdout.trim(), 'running', r.stderr)
    // It is a systemd host of its own, not the test runner's namespace.
    const comm = await c.exec(['cat', '/proc/1/comm'])
    assert.equal(comm.stdout.trim(), 'systemd')
    const os = await c.exec(['sh', '-c', '. /etc/os-release && echo $VERSION_CODENAME'])
    assert.equal(os.stdout.trim(), 'bookworm')
  })

  test('the host Node runs inside and the bundled CLI validates the example spec', async () => {
    const v = await c.exec(['node', '--version'])
    assert.equal(v.status, 0, v.stderr)
    const major = Number(/^v(\d+)\./.exec(v.stdout.trim())?.[1])
    assert.ok(major >= 20, `node ${v.stdout.trim()} is older than 20`)
    const r = await c.exec(['node', CONTAINER_XOA, 'validate', '--spec', '/opt/xoa-src/examples/xoa.toml'])
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout, /valid/)
    // The checkout is bound read-only: a test can never scribble on the repo from inside.
    const w = await c.exec(['touch', '/opt/xoa-src/should-not-exist'])
    assert.notEqual(w.status, 0)
    assert.match(w.stderr, /Read-only file system/)
  })

  test('a hardened unit sees a mount made after it started, and cannot write outside ReadWritePaths', async (t) => {
    // The property the mount broker needs (issue 5): root mounts under mountsDir in the host namespace while
    // xo-server runs under ProtectSystem=strict; the service must see the new mount and still be confined.
    mkdirSync(join(c.root, 'srv', 'mounts'), { recursive: true })
    writeFileSync(
      join(c.root, 'etc', 'systemd', 'system', 'xoa-probe.service'),
      [
        '[Unit]',
        'Description=xoa harness probe: a hardened long-running service',
        '[Service]',
        'ExecStart=/bin/sleep infinity',
        'DynamicUser=no',
        'ProtectSystem=strict',
        'ProtectHome=yes',
        'PrivateTmp=yes',
        'NoNewPrivileges=yes',
        'CapabilityBoundingSet=',
        'ReadWritePaths=/srv/mounts',
        '',
      ].join('\n'),
    )
    const start = await c.exec(['sh', '-c', 'systemctl daemon-reload && systemctl start xoa-probe.service'])
    assert.equal(start.status, 0, start.stderr)
    const active = await c.exec(['systemctl', 'is-active', 'xoa-probe.service'])
    assert.equal(active.stdout.trim(), 'active')
    const mainPid = (
      await c.exec(['systemctl', 'show', '-p', 'MainPID', '--value', 'xoa-probe.service'])
    ).stdout.trim()
    assert.match(mainPid, /^[1-9]\d*$/)

    const status = (await c.exec(['cat', `/proc/${mainPid}/status`])).stdout
    assert.match(status, /^NoNewPrivs:\s*1$/m)
    assert.match(status, /^CapBnd:\s*0+$/m)

    // After the service started: root, in the container's own namespace, mounts a tmpfs under /srv/mounts.
    const token = randomUUID()
    const mount = await c.sh(
      `mkdir -p /srv/mounts/remote1 && mount -t tmpfs -o size=1m,nosuid,nodev xoa-probe /srv/mounts/remote1 && echo ${token} > /srv/mounts/remote1/marker`,
    )
    assert.equal(mount.status, 0, mount.stderr)
    t.after(() => c.exec(['umount', '/srv/mounts/remote1']))

    const inside = await c.exec(['nsenter', '-t', mainPid, '-m', 'cat', '/srv/mounts/remote1/marker'])
    assert.equal(inside.status, 0, inside.stderr)
    assert.equal(inside.stdout.trim(), token)
    // The file system the service sees at that path is the new tmpfs (stacked once per propagation peer).
    const fstype = await c.exec([
      'nsenter',
      '-t',
      mainPid,
      '-m',
      'stat',
      '-f',
      '-c',
      '%T',
      '/srv/mounts/remote1',
    ])
    assert.equal(fstype.stdout.trim(), 'tmpfs', fstype.stderr)
    // The service's namespace is really separate: /etc is read-only there but not in the container's root ns.
    const writeIn = await c.exec([
      'nsenter',
      '-t',
      mainPid,
      '-m',
      'sh',
      '-c',
      'echo x > /srv/mounts/remote1/w',
    ])
    assert.equal(writeIn.status, 0, writeIn.stderr)
    const writeOut = await c.exec([
      'nsenter',
      '-t',
      mainPid,
      '-m',
      'sh',
      '-c',
      'echo x > /etc/xoa-probe-escape',
    ])
    assert.notEqual(writeOut.status, 0)
    assert.match(writeOut.stderr, /Read-only file system/)
    const writeVar = await c.exec([
      'nsenter',
      '-t',
      mainPid,
      '-m',
      'sh',
      '-c',
      'echo x > /var/lib/xoa-escape',
    ])
    assert.match(writeVar.stderr, /Read-only file system/)
    const ok = await c.exec(['sh', '-c', 'echo x > /etc/xoa-probe-escape && rm /etc/xoa-probe-escape'])
    assert.equal(ok.status, 0, `control: root outside the service can write /etc: ${ok.stderr}`)

    const stop = await c.exec(['systemctl', 'stop', 'xoa-probe.service'])
    assert.equal(stop.status, 0, stop.stderr)
  })

  test('a reboot brings the same system back with /var/lib intact', async (t) => {
    const token = randomUUID()
    const w = await c.sh(`mkdir -p /var/lib/xoa-probe && echo ${token} > /var/lib/xoa-probe/token && sync`)
    assert.equal(w.status, 0, w.stderr)
    const bootBefore = (await c.exec(['cat', '/proc/sys/kernel/random/boot_id'])).stdout.trim()
    const pidBefore = c.pid
    const t0 = Date.now()
    await c.reboot()
    await c.waitForSystem()
    t.diagnostic(`reboot to running in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
    assert.notEqual(c.pid, pidBefore)
    const bootAfter = (await c.exec(['cat', '/proc/sys/kernel/random/boot_id'])).stdout.trim()
    assert.notEqual(bootAfter, bootBefore, 'the boot id must change: this was a real reboot')
    const r = await c.exec(['cat', '/var/lib/xoa-probe/token'])
    assert.equal(r.stdout.trim(), token)
  })
})
