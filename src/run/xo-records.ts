// Reading XO's own records from its Redis, as upstream writes them (packages/xo-server/src/collection/redis.mjs):
// a set `xo:<namespace>_ids` and one key `xo:<namespace>:<id>` per record. Since upstream's collection rewrite
// (32afd5c463, #7113) that key is a string holding JSON; before, a hash — upstream still reads both (GET, and
// HGETALL on WRONGTYPE), so xoa does too. With `redis.encryptCredentialDatabase` (#9735) the string is
// `enc:` + base64(iv ‖ AES-GCM ciphertext) under a key xoa does not have: such a record is "encrypted", never an
// error. Indexes (`xo:user_email:<value>`) are HMACs then, so xoa never trusts them: it reads the records.
import type { RedisClient } from './redis.ts'

/** Upstream's ENCRYPTION_PREFIX (packages/xo-server/src/xo-mixins/crypto-credentials.mjs). */
export const ENCRYPTION_PREFIX = 'enc:'

export type XoRecord =
  | { state: 'plain'; id: string; fields: Record<string, unknown> }
  /** Encrypted by xo-server, or not JSON: present, but what it says is unknown. */
  | { state: 'unreadable'; id: string; why: 'encrypted' | 'not JSON' }

/** Pure: one stored value (GET's string, or HGETALL's object for a pre-#7113 hash) as a record. */
export function decodeRecord(id: string, stored: string | Record<string, string>): XoRecord {
  if (typeof stored !== 'string') return { state: 'plain', id, fields: stored }
  if (stored.startsWith(ENCRYPTION_PREFIX)) return { state: 'unreadable', id, why: 'encrypted' }
  try {
    const v = JSON.parse(stored) as unknown
    if (typeof v === 'object' && v !== null && !Array.isArray(v))
      return { state: 'plain', id, fields: v as Record<string, unknown> }
  } catch {}
  return { state: 'unreadable', id, why: 'not JSON' }
}

/** One record as upstream's #get reads it; undefined when the key is gone (upstream skips such ids too). */
export async function readRecord(
  r: RedisClient,
  namespace: string,
  id: string,
): Promise<XoRecord | undefined> {
  const key = `xo:${namespace}:${id}`
  let stored: string | Record<string, string> | null
  try {
    stored = await r.get(key)
  } catch (e) {
    if (!(e as Error).message.startsWith('WRONGTYPE')) throw e
    stored = await r.hGetAll(key)
  }
  return stored === null ? undefined : decodeRecord(id, stored)
}

/** Every record of a namespace, in no particular order. */
export async function readRecords(r: RedisClient, namespace: string): Promise<XoRecord[]> {
  const ids = await r.sMembers(`xo:${namespace}_ids`)
  const records = await Promise.all(ids.map((id) => readRecord(r, namespace, id)))
  return records.filter((x): x is XoRecord => x !== undefined)
}

export interface UserFacts {
  /** Records in xo:user_ids that exist (what upstream's `users.exists()` counts before it creates admin@admin.net). */
  count: number
  /** How many of them xoa cannot read (encrypted). */
  unreadable: number
  /** true/false when every record was readable or one matched; undefined = unknown. */
  has(email: string): boolean | undefined
}

/** Pure. Emails compare as upstream's email index does: lower-cased. */
export function userFacts(records: XoRecord[]): UserFacts {
  const emails = new Set<string>()
  let unreadable = 0
  for (const u of records) {
    if (u.state === 'unreadable') unreadable++
    else if (typeof u.fields.email === 'string') emails.add(u.fields.email.toLowerCase())
  }
  return {
    count: records.length,
    unreadable,
    has: (email) => (emails.has(email.toLowerCase()) ? true : unreadable > 0 ? undefined : false),
  }
}

export async function readUsers(r: RedisClient): Promise<UserFacts> {
  return userFacts(await readRecords(r, 'user'))
}
