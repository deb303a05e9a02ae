// Restore on a host `xoa up` runs, once it is stopped: nothing serves Redis then (xoa up owned it), so restore
// starts the same Redis from the config `xoa up` rendered, as the service account, and stops it afterwards.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { hostLayout } from '../../src/host/layout.ts'
import { renderRedisConfig } from '../../src/render/redis.ts'
import { pingRedis } from '../../src/run/redis.ts'
import { loadSpecFile } from '../../src/spec/load.ts'
import { xoa } from '../helpers.ts'
import { makeHost, SERVICE } from './fixture.ts'
import { withDb } from './redis-server.ts'

test('restore after xoa up stopped: Redis is started from its rendered config for the restore, then stopped', async (t) => {
  const h = await makeHost(t, { mode: 'foreground' })
  const spec = loadSpecFile(h.specFile)
  await withDb(h.socket, 0, (c) => c.set('xo:before-backup', 'kept'))
  const b = xoa(['backup', '--spec', h.specFile, '--json'], { env: h.env })
  assert.equal(b.status, 0, b.stderr)
  const archive = JSON.parse(b.stdout).archive as string
  await withDb(h.socket, 0, (c) => c.set('xo:after-backup', 'gone after restore'))

  // What `xoa up` leaves behind when it stops: its Redis saved and gone, the config it rendered.
  spawnSync('redis-cli', ['-s', h.socket, 'shutdown', 'save'])
  for (let i = 0; i < 200 && (await pingRedis(h.socket)); i++) await sleep(25)
  assert.equal(await pingRedis(h.socket), false)
  // xoa up's Redis runs as the service account and owns its files (this test's one ran as root).
  spawnSync('chown', ['-R', `${SERVICE.uid}:${SERVICE.gid}`, spec.redis.dir])
  const config = hostLayout(spec, 'foreground').redis.config
  mkdirSync(dirname(config), { recursive: true })
  writeFileSync(config, renderRedisConfig(spec).content)

  const r = xoa(['restore', archive, '--spec', h.specFile, '--yes'], { env: h.env })
  assert.equal(r.status, 0, r.stderr + r.stdout)
  assert.match(r.stdout, /started Redis from .* for the restore/)
  assert.equal(await pingRedis(h.socket), false, 'the temporary Redis is stopped again')

  // Start it as `xoa up` would and read what the restore left.
  const pidfile = join(h.dir, 'redis-check.pid')
  const up = spawnSync('redis-server', [config, '--daemonize', 'yes', '--pidfile', pidfile], {
    encoding: 'utf8',
  })
  assert.equal(up.status, 0, up.stderr)
  t.after(() => spawnSync('redis-cli', ['-s', h.socket, 'shutdown', 'nosave']))
  for (let i = 0; i < 200 && !(await pingRedis(h.socket)); i++) await sleep(25)
  await withDb(h.socket, 0, async (c) => {
    assert.equal(await c.get('xo:before-backup'), 'kept')
    assert.equal(await c.get('xo:after-backup'), null)
  })
})

test('restore with no Redis and no config to start one says what to do and changes nothing', async (t) => {
  const h = await makeHost(t, { mode: 'foreground' })
  const b = xoa(['backup', '--spec', h.specFile, '--json'], { env: h.env })
  assert.equal(b.status, 0, b.stderr)
  const archive = JSON.parse(b.stdout).archive as string
  spawnSync('redis-cli', ['-s', h.socket, 'shutdown', 'save'])
  for (let i = 0; i < 200 && (await pingRedis(h.socket)); i++) await sleep(25)
  const r = xoa(['restore', archive, '--spec', h.specFile, '--yes'], { env: h.env })
  assert.notEqual(r.status, 0)
  assert.match(r.stderr, /Redis does not answer on .* \(redis\.socket\)/)
  assert.match(r.stderr, /run xoa up once/)
})
