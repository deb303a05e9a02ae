// The Redis half on its own, against a real redis-server.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  parseSnapshot,
  probeRedis,
  restoreRedis,
  saveRedis,
  serializeSnapshot,
} from '../../src/backup/redis-snapshot.ts'
import { fillRedis } from './fixture.ts'
import { fingerprint, startRedis, withDb } from './redis-server.ts'

const redis = async (t: { after(fn: () => unknown): void }) => (await startRedis(t)).socket

test('a snapshot survives serialisation and restores every key, value and expiry exactly', async (t) => {
  const socket = await redis(t)
  await fillRedis(socket)
  const before = await fingerprint(socket)
  const snap = parseSnapshot(serializeSnapshot(await saveRedis(socket)))
  await withDb(socket, 0, (c) => c.flushAll())
  await withDb(socket, 5, (c) => c.set('stray', 'gone after restore'))
  assert.equal(await restoreRedis(socket, snap), Object.keys(before).length)
  assert.deepEqual(await fingerprint(socket), before)
})

test('a payload Redis rejects fails the restore before anything is deleted', async (t) => {
  const socket = await redis(t)
  await fillRedis(socket)
  const snap = await saveRedis(socket)
  // The key with a binary name (0xff 0x00 0x01): its name must not break the error that reports it.
  const binary = snap.databases[0]!.keys.find((k) => k.key.equals(Buffer.from([0xff, 0x00, 0x01])))
  assert.ok(binary, 'the fixture has a binary-named key')
  binary.dump = Buffer.from('not a DUMP payload')
  await withDb(socket, 0, (c) => c.set('written-after', 'must survive the failed restore'))
  const before = await fingerprint(socket)
  await assert.rejects(probeRedis(socket, snap), /cannot be restored/)
  await assert.rejects(restoreRedis(socket, snap), /cannot be restored/)
  assert.deepEqual(await fingerprint(socket), before)
})

test('a key whose expiry passed while the backup sat on disk is not brought back', async (t) => {
  const socket = await redis(t)
  await withDb(socket, 0, async (c) => {
    await c.set('session', 'x')
    await c.set('kept', 'y')
  })
  const snap = await saveRedis(socket)
  for (const k of snap.databases[0]!.keys) if (k.key.toString() === 'session') k.expireAt = Date.now() - 1000
  await restoreRedis(socket, snap)
  assert.deepEqual(Object.keys(await fingerprint(socket)), [`0:${Buffer.from('kept').toString('hex')}`])
})
