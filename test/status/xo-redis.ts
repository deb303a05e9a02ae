// Writing XO users into a test Redis exactly as upstream does, in each of the three forms a real host may hold:
// a JSON string (upstream since #7113: packages/xo-server/src/collection/redis.mjs), a hash (before #7113, still
// read by upstream), and encrypted (redis.encryptCredentialDatabase, #9735: `enc:` + base64(iv ‖ AES-GCM),
// the key derived with HKDF-SHA-256 from two 32-byte halves, HMAC blind indexes —
// packages/xo-server/src/xo-mixins/crypto-credentials.mjs). Test-only: xoa never writes XO's records.
import { randomBytes, webcrypto } from 'node:crypto'
import type { createClient } from 'redis'

type Client = ReturnType<typeof createClient>
export type Stored = 'json' | 'hash' | 'encrypted'

/** The key material of one encrypted XO (what XenStore and the key file hold on an XCP-ng VM). */
async function keys() {
  const ikm = await webcrypto.subtle.importKey(
    'raw',
    Buffer.concat([randomBytes(32), randomBytes(32)]),
    'HKDF',
    false,
    ['deriveKey'],
  )
  const derive = (
    info: string,
    alg: webcrypto.HmacKeyGenParams | webcrypto.AesKeyGenParams,
    use: KeyUsage[],
  ) =>
    webcrypto.subtle.deriveKey(
      { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: Buffer.from(info) },
      ikm,
      alg,
      false,
      use,
    )
  return {
    aes: await derive('xo-credentials-aes', { name: 'AES-GCM', length: 256 }, ['encrypt', 'decrypt']),
    hmac: await derive('xo-credentials-hmac', { name: 'HMAC', hash: 'SHA-256' }, ['sign']),
  }
}
let cached: ReturnType<typeof keys> | undefined
const theKeys = () => {
  cached ??= keys()
  return cached
}

async function encrypt(plaintext: string): Promise<string> {
  const { aes } = await theKeys()
  const iv = randomBytes(12)
  const ct = await webcrypto.subtle.encrypt({ name: 'AES-GCM', iv }, aes, Buffer.from(plaintext))
  return `enc:${Buffer.concat([iv, Buffer.from(ct)]).toString('base64')}`
}

async function indexValue(value: string, stored: Stored): Promise<string> {
  if (stored !== 'encrypted') return value.toLowerCase()
  const { hmac } = await theKeys()
  const sig = await webcrypto.subtle.sign({ name: 'HMAC' }, hmac, Buffer.from(value.toLowerCase()))
  return Buffer.from(sig).toString('hex')
}

/** A user as upstream's createUser leaves it, with the namespace bookkeeping of the collection. */
export async function addXoUser(
  c: Client,
  id: string,
  email: string,
  stored: Stored = 'json',
): Promise<void> {
  const record = { permission: 'admin', email, pw_hash: '$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA' }
  await c.sAdd('xo::namespaces', 'user')
  await c.set('xo:user:version', '20170905')
  await c.sAdd('xo:user::indexes', 'email')
  await c.sAdd('xo:user_ids', id)
  if (stored === 'hash') await c.hSet(`xo:user:${id}`, record)
  else {
    const json = JSON.stringify(record)
    await c.set(`xo:user:${id}`, stored === 'encrypted' ? await encrypt(json) : json)
  }
  await c.sAdd(`xo:user_email:${await indexValue(email, stored)}`, id)
}

/** Every key of the user namespace, to start from an XO with no user. */
export async function dropXoUsers(c: Client): Promise<void> {
  const ks = [...(await c.keys('xo:user:*')), ...(await c.keys('xo:user_*'))]
  if (ks.length) await c.del(ks)
}
