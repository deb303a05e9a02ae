// Redis, XO's primary database, saved and restored as one atomic step each.
// Saving: one Lua script (scripts run atomically: no other client runs in between) returns DUMP and the
// absolute expiry of every key in every database, so the snapshot is one point in time.
// Restoring: one Lua script first RESTOREs every payload into a scratch key (Redis does not roll a script
// back, so this catches a payload the server rejects before anything is lost), then FLUSHALL and RESTORE
// every key with its absolute expiry (ABSTTL), so a TTL is exactly what it was, not shifted by the time the
// backup sat on disk. A key whose expiry passed meanwhile is not recreated, as Redis would have dropped it.
import { RESP_TYPES } from 'redis'
import { z } from 'zod'
import { type RedisClient, withRedis } from '../run/redis.ts'

export interface RedisKey {
  key: Buffer
  /** Absolute expiry in Unix ms, or -1 for none. */
  expireAt: number
  /** DUMP payload (RDB-serialised value with its version and checksum). */
  dump: Buffer
}

export interface RedisSnapshot {
  databases: { db: number; keys: RedisKey[] }[]
}

const SAVE_SCRIPT = `
local out = {}
for db = 0, tonumber(ARGV[1]) - 1 do
  redis.call('SELECT', db)
  for _, k in ipairs(redis.call('KEYS', '*')) do
    local at = redis.pcall('PEXPIRETIME', k)
    if type(at) == 'table' then
      -- Redis < 7 has no PEXPIRETIME: derive it from the server clock
      local ttl = redis.call('PTTL', k)
      if ttl < 0 then at = -1 else
        local t = redis.call('TIME')
        at = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + ttl
      end
    end
    out[#out + 1] = db
    out[#out + 1] = k
    out[#out + 1] = at
    out[#out + 1] = redis.call('DUMP', k)
  end
end
return out
`

// ARGV, for each key: db, key, expireAt, payload.
const PROBE = `
local probe = '__xoa_restore_probe__'
for i = 1, #ARGV, 4 do
  redis.call('SELECT', tonumber(ARGV[i]))
  local r = redis.pcall('RESTORE', probe, 0, ARGV[i + 3], 'REPLACE')
  if type(r) == 'table' and r.err then
    -- A key name may hold any byte; an error reply may not (CR, LF, NUL would cut it short).
    local name = string.gsub(ARGV[i + 1], '[^%w%p ]', '?')
    return redis.error_reply('key ' .. name .. ' cannot be restored: ' .. r.err)
  end
  redis.call('DEL', probe)
end
`
const PROBE_SCRIPT = `${PROBE}return 0`
const RESTORE_SCRIPT = `${PROBE}
redis.call('FLUSHALL')
local n = 0
for i = 1, #ARGV, 4 do
  redis.call('SELECT', tonumber(ARGV[i]))
  local at = tonumber(ARGV[i + 2])
  if at > 0 then
    redis.call('RESTORE', ARGV[i + 1], at, ARGV[i + 3], 'ABSTTL')
  else
    redis.call('RESTORE', ARGV[i + 1], 0, ARGV[i + 3])
  end
  n = n + 1
end
return n
`

const binary = (r: RedisClient) => r.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer })

async function databaseCount(r: RedisClient): Promise<number> {
  const reply = (await r.sendCommand(['CONFIG', 'GET', 'databases'])) as unknown
  const flat = Array.isArray(reply) ? reply : Object.entries(reply as Record<string, unknown>).flat()
  const n = Number(flat[1])
  return Number.isInteger(n) && n > 0 ? n : 16
}

export function saveRedis(socket: string): Promise<RedisSnapshot> {
  return withRedis(socket, async (r) => {
    const dbs = await databaseCount(r)
    const flat = (await binary(r).eval(SAVE_SCRIPT, { arguments: [String(dbs)] })) as unknown[]
    const byDb = new Map<number, RedisKey[]>()
    for (let i = 0; i < flat.length; i += 4) {
      const db = Number(flat[i])
      const list = byDb.get(db) ?? []
      list.push({ key: flat[i + 1] as Buffer, expireAt: Number(flat[i + 2]), dump: flat[i + 3] as Buffer })
      byDb.set(db, list)
    }
    return { databases: [...byDb].map(([db, keys]) => ({ db, keys })) }
  })
}

function scriptArgs(snap: RedisSnapshot): (string | Buffer)[] {
  const args: (string | Buffer)[] = []
  for (const { db, keys } of snap.databases)
    for (const k of keys) args.push(String(db), k.key, String(k.expireAt), k.dump)
  return args
}

/** Does this Redis accept every payload (same or newer RDB version)? Changes nothing but a scratch key. */
export function probeRedis(socket: string, snap: RedisSnapshot): Promise<void> {
  return withRedis(socket, async (r) => {
    await r.eval(PROBE_SCRIPT, { arguments: scriptArgs(snap) })
  })
}

/** Replaces everything in Redis with the snapshot; all-or-nothing unless Redis runs out of memory midway. */
export function restoreRedis(socket: string, snap: RedisSnapshot): Promise<number> {
  return withRedis(socket, async (r) => Number(await r.eval(RESTORE_SCRIPT, { arguments: scriptArgs(snap) })))
}

export function keyCount(snap: RedisSnapshot): number {
  return snap.databases.reduce((n, d) => n + d.keys.length, 0)
}

const SnapshotFileSchema = z.strictObject({
  databases: z.array(
    z.strictObject({
      db: z.int().min(0),
      keys: z.array(z.strictObject({ key: z.base64(), expireAt: z.int(), dump: z.base64() })),
    }),
  ),
})

/** The archive's redis.json: keys and payloads in base64, since both may be arbitrary bytes. */
export function serializeSnapshot(snap: RedisSnapshot): string {
  return JSON.stringify({
    databases: snap.databases.map(({ db, keys }) => ({
      db,
      keys: keys.map((k) => ({
        key: k.key.toString('base64'),
        expireAt: k.expireAt,
        dump: k.dump.toString('base64'),
      })),
    })),
  })
}

export function parseSnapshot(text: string): RedisSnapshot {
  const doc = SnapshotFileSchema.parse(JSON.parse(text))
  return {
    databases: doc.databases.map(({ db, keys }) => ({
      db,
      keys: keys.map((k) => ({
        key: Buffer.from(k.key, 'base64'),
        expireAt: k.expireAt,
        dump: Buffer.from(k.dump, 'base64'),
      })),
    })),
  }
}
