// Reading XO's records as upstream writes them (src/run/xo-records.ts), against a real Redis seeded in each
// form a real host may hold, and the user count bootstrap relies on to know whether xo-server would create
// admin@admin.net. Plus the pure "is the channel newer" decision of `xoa update --check` (exit 10 vs 11).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { countUsers, withRedis } from '../../src/run/redis.ts'
import { decodeRecord, readUsers } from '../../src/run/xo-records.ts'
import { offersNewer } from '../../src/source/update-report.ts'
import { startRedis } from '../backup/redis-server.ts'
import { addXoUser } from '../status/xo-redis.ts'

test('decodeRecord: JSON string, hash, encrypted, garbage', () => {
  assert.deepEqual(decodeRecord('a', '{"email":"x@y"}'), {
    state: 'plain',
    id: 'a',
    fields: { email: 'x@y' },
  })
  assert.deepEqual(decodeRecord('a', { email: 'x@y' }), { state: 'plain', id: 'a', fields: { email: 'x@y' } })
  assert.deepEqual(decodeRecord('a', 'enc:AAAA'), { state: 'unreadable', id: 'a', why: 'encrypted' })
  assert.deepEqual(decodeRecord('a', 'not json'), { state: 'unreadable', id: 'a', why: 'not JSON' })
  assert.deepEqual(decodeRecord('a', '[1]'), { state: 'unreadable', id: 'a', why: 'not JSON' })
})

test('users in every form on a real Redis; an id without its record is no user (bootstrap would create the admin)', async (t) => {
  const { socket } = await startRedis(t)
  await withRedis(socket, (c) => c.sAdd('xo:user_ids', 'ghost'))
  assert.equal(await countUsers(socket), 0, 'upstream would create admin@admin.net here')
  await withRedis(socket, async (c) => {
    await addXoUser(c, 'u1', 'Json@Example.test', 'json')
    await addXoUser(c, 'u2', 'hash@example.test', 'hash')
  })
  assert.equal(await countUsers(socket), 2)
  let users = await withRedis(socket, readUsers)
  assert.deepEqual(
    [
      users.count,
      users.unreadable,
      users.has('json@example.test'),
      users.has('hash@example.test'),
      users.has('no@x'),
    ],
    [2, 0, true, true, false],
  )
  await withRedis(socket, (c) => addXoUser(c, 'u3', 'secret@example.test', 'encrypted'))
  assert.equal(await countUsers(socket), 3)
  users = await withRedis(socket, readUsers)
  assert.deepEqual(
    [users.count, users.unreadable, users.has('json@example.test'), users.has('secret@example.test')],
    [3, 1, true, undefined],
  )
})

test('offersNewer: forward yes; behind no; another line only with a higher version', () => {
  const v = (from: string, to: string, direction: 'forward' | 'backward' | 'sideways' | 'up-to-date') => ({
    direction,
    from: { rev: 'a', version: from, date: '' },
    to: { channel: 'latest' as const, rev: 'b', version: to, date: '', subject: '' },
  })
  assert.equal(offersNewer(v('6.6.2', '6.7.1', 'forward')), true)
  assert.equal(offersNewer(v('6.7.1', '6.6.2', 'backward')), false)
  assert.equal(offersNewer(v('6.7.1', '6.7.1', 'up-to-date')), false)
  assert.equal(offersNewer(v('6.6.2', '6.7.1', 'sideways')), true)
  assert.equal(offersNewer(v('6.7.1', '6.7.1', 'sideways')), false)
  assert.equal(offersNewer(v('6.7.1-dev', '6.7.1', 'sideways')), false, 'X.Y.Z-dev is after X.Y.Z')
})
