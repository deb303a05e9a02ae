// A real redis-server on a Unix socket in a temp dir, and a fingerprint of everything it holds.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { createClient, RESP_TYPES } from 'redis'

export async function startRedis(t: { after(fn: () => unknown): void }, dir: string): Promise<string> {
  const socket = join(dir, 'redis.sock')
  const pidfile = join(dir, 'redis.pid')
  const r = spawnSync(
    'redis-server',
    [
      '--port',
      '0',
      '--unixsocket',
      socket,
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--daemonize',
      'yes',
      '--pidfile',
      pidfile,
    ],
    { encoding: 'utf8' },
  )
  if (r.status !== 0) throw new Error(`redis-server failed: ${r.stderr}${r.stdout}`)
  t.after(() => {
    spawnSync('redis-cli', ['-s', socket, 'shutdown', 'nosave'])
    if (existsSync(pidfile)) {
      try {
        process.kill(Number(readFileSync(pidfile, 'utf8')), 'SIGTERM')
      } catch {}
    }
  })
  for (let i = 0; i < 200 && !existsSync(socket); i++) await sleep(25)
  if (!existsSync(socket)) throw new Error('redis-server did not create its socket')
  return socket
}

export async function withDb<T>(
  socket: string,
  db: number,
  fn: (c: ReturnType<typeof createClient>) => Promise<T>,
): Promise<T> {
  const c = createClient({ socket: { path: socket, reconnectStrategy: false }, database: db })
  await c.connect()
  try {
    return await fn(c)
  } finally {
    await c.quit()
  }
}

/** Every key of every database with its type, full value and absolute expiry: equal iff Redis is equal. */
export async function fingerprint(socket: string, databases = 16): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {}
  for (let db = 0; db < databases; db++) {
    await withDb(socket, db, async (plain) => {
      const bytes = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } }
      const c = { sendCommand: (args: (string | Buffer)[]) => plain.sendCommand(args, bytes) }
      const keys = (await c.sendCommand(['KEYS', '*'])) as unknown as Buffer[]
      assert.ok(
        keys.every((k) => Buffer.isBuffer(k)),
        'keys are read as bytes',
      )
      for (const k of keys) {
        const type = String(await plain.sendCommand(['TYPE', k]))
        const cmd: Record<string, (string | Buffer)[]> = {
          string: ['GET', k],
          hash: ['HGETALL', k],
          set: ['SMEMBERS', k],
          list: ['LRANGE', k, '0', '-1'],
          zset: ['ZRANGE', k, '0', '-1', 'WITHSCORES'],
        }
        const raw = (await c.sendCommand(cmd[type] ?? ['DUMP', k])) as unknown
        out[`${db}:${k.toString('hex')}`] = {
          type,
          value: normalise(type, raw),
          expireAt: Number(await plain.sendCommand(['PEXPIRETIME', k])),
        }
      }
    })
  }
  return out
}

function normalise(type: string, raw: unknown): unknown {
  const hex = (v: unknown) => (Buffer.isBuffer(v) ? v.toString('hex') : String(v))
  if (Array.isArray(raw)) {
    const items = raw.map(hex)
    if (type === 'hash') return items.flatMap((v, i) => (i % 2 ? [] : [`${v}=${items[i + 1]}`])).sort()
    return type === 'set' ? items.sort() : items
  }
  if (raw instanceof Map) return [...raw].map(([k, v]) => [hex(k), hex(v)]).sort()
  if (raw && typeof raw === 'object' && !Buffer.isBuffer(raw))
    return Object.entries(raw)
      .map(([k, v]) => [k, hex(v)])
      .sort()
  return hex(raw)
}
