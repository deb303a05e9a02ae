// Digests of what xoa sent to XO (and of what XO reported back), kept in the ownership record instead of the
// values: XO never returns some secrets (server and user passwords) and obfuscates others (remote URLs, plugin
// configurations), so "did it change?" is answered by comparing digests. HMAC with the record's own random salt,
// so a record that leaks gives no cheap way to test password guesses.
import { createHmac, randomBytes } from 'node:crypto'

export function newSalt(): string {
  return randomBytes(32).toString('hex')
}

/** JSON with object keys sorted at every level: equal values give equal text whatever the key order. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`
  return JSON.stringify(v) ?? 'null'
}

export function digest(salt: string, value: unknown): string {
  return createHmac('sha256', Buffer.from(salt, 'hex')).update(canonicalJson(value)).digest('hex')
}
