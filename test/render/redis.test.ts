// A real redis-server started from the rendered config answers on its socket and never evicts.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { createClient } from 'redis'
import { renderRedisConfig } from '../../src/render/redis.ts'
import { tempDir } from '../helpers.ts'
import { spec } from './cases.ts'

test('redis-server runs from the rendered config: PING on the socket, noeviction, AOF, no TCP', async (t) => {
  const dir = tempDir(t, 'xoa-redis-')
  const socket = join(dir, 'redis.sock')
  const conf = join(dir, 'redis-xo.conf')
  const file = renderRedisConfig(spec({ redis: { socket, dir, maxmemory: '64mb' } }))
  writeFileSync(conf, file.content)
  const server = spawn('redis-server', [conf], { stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  server.stdout.on('data', (d) => (log += d))
  server.stderr.on('data', (d) => (log += d))
  t.after(() => server.kill('SIGKILL'))
  for (let i = 0; i < 100 && !existsSync(socket); i++) {
    if (server.exitCode !== null) break
    await sleep(100)
  }
  assert.ok(existsSync(socket), `redis-server did not create its socket:\n${log}`)

  const client = createClient({ socket: { path: socket, tls: false, reconnectStrategy: false } })
  await client.connect()
  t.after(() => client.destroy())
  assert.equal(await client.ping(), 'PONG')
  const conf1 = async (k: string) => (await client.configGet(k))[k]
  assert.equal(await conf1('maxmemory-policy'), 'noeviction')
  assert.equal(await conf1('appendonly'), 'yes')
  assert.equal(await conf1('appendfsync'), 'everysec')
  assert.equal(await conf1('port'), '0')
  assert.equal(await conf1('unixsocketperm'), '660')
  assert.equal(await conf1('maxmemory'), String(64 * 1024 * 1024))
  assert.equal(await conf1('daemonize'), 'no')
  // Protected configs cannot be changed at run time.
  await assert.rejects(client.configSet('dir', '/tmp'), /protected/i)
})

test('the rendered config quotes paths with spaces', () => {
  const f = renderRedisConfig(spec({ redis: { socket: '/run/redis xo/r.sock', dir: '/var/lib/r x' } }))
  assert.match(f.content, /^unixsocket "\/run\/redis xo\/r\.sock"$/m)
  assert.match(f.content, /^dir "\/var\/lib\/r x"$/m)
})
