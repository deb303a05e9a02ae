// status and logs on a real systemd (Debian 12 in nspawn): systemctl show is what `xoa status` reads, and
// `xoa logs` runs journalctl over xoa's units. A stand-in xo-server.service (sleep) is enough for both.
import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { bootContainer, CONTAINER_XOA, type Container, nspawnSkipReason } from '../harness/nspawn.ts'

const XOA = ['node', CONTAINER_XOA]

describe('xoa status and xoa logs under systemd (nspawn)', { skip: nspawnSkipReason() }, () => {
  let c: Container

  before(async () => {
    c = await bootContainer()
    await c.waitForSystem()
    mkdirSync(join(c.root, 'etc', 'xoa'), { recursive: true })
    writeFileSync(join(c.root, 'etc', 'xoa', 'xoa.toml'), '[mounts]\nmode = "none"\n')
    writeFileSync(
      join(c.root, 'etc', 'systemd', 'system', 'xo-server.service'),
      '[Service]\nExecStart=/bin/sh -c "echo stand-in xo-server started; exec sleep infinity"\n',
    )
    const r = await c.sh('systemctl daemon-reload && systemctl start xo-server')
    assert.equal(r.status, 0, r.stderr)
  })
  after(async () => {
    await c?.destroy()
  })

  test('xoa logs --print is the seed xoa-logs.sh journalctl', async () => {
    const r = await c.exec([...XOA, 'logs', '--print'])
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stdout, 'journalctl -u xo-build -u xo-server -u redis-xo -u xo-bootstrap -e\n')
  })

  test('xoa logs runs journalctl and shows the unit output', async () => {
    const r = await c.exec([...XOA, 'logs', '-u', 'xo-server', '-n', '20'])
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout, /stand-in xo-server started/)
  })

  test('xoa status reads systemd: active, main PID, since; unhealthy → exit 1', async () => {
    const r = await c.exec([...XOA, 'status', '--json'])
    const s = JSON.parse(r.stdout)
    assert.equal(s.mode, 'systemd')
    assert.equal(s.server.supervisor, 'systemd')
    assert.equal(s.server.activeState, 'active')
    assert.equal(s.server.running, true)
    assert.ok(s.server.pid > 1, JSON.stringify(s.server))
    assert.ok(Date.parse(s.server.since) > 0 && s.server.uptimeSeconds >= 0, JSON.stringify(s.server))
    assert.equal(s.health.ping, false, 'a sleep does not answer ping')
    assert.equal(r.status, 1)

    await c.exec(['systemctl', 'stop', 'xo-server'])
    const stopped = JSON.parse((await c.exec([...XOA, 'status', '--json'])).stdout)
    assert.equal(stopped.server.running, false)
    assert.equal(stopped.server.activeState, 'inactive')
    assert.ok(stopped.problems.includes('xo-server is not running (inactive)'), stopped.problems)
  })
})
