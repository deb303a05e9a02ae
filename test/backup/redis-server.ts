// A real redis-server on a Unix socket in a temp dir, and a fingerprint of everything it holds.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { createClient, RESP_TYPES } from 'redis'

/** Start redis-server in its own temp dir; stopped (SHUTDOWN NOSAVE) and removed when the test ends. */
export async function startRedis(t: {
  after(fn: () => unknown): void
}): Promise<{ socket: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'xoa-backup-redis-'))
  const socket = join(dir, 'redis.sock')
  const pidfile = join(dir, 'redis.pid')
  const args = [
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
  ]
  const r = spawnSync('redis-server', [...args, '--pidfile', pidfile], { encoding: 'utf8' })
  if (r.status !== 0) {
    rmSync(dir, { recursive: true, force: true })
    throw new Error(`redis-server failed: ${r.stderr}${r.stdout}`)
  }
  for (let i = 0; i < 200 && !(existsSync(socket) && existsSync(pidfile)); i++) await sleep(25)
  if (!existsSync(pidfile)) throw new Error('redis-server did not start')
  const pid = Number(readFileSync(pidfile, 'utf8'))
  t.after(async () => {
    await stopRedisServer(pid, socket)
    rmSync(dir, { recursive: true, force: true })
  })
  return { socket, dir }
}

/**
 * Stop a redis-server a test started, whatever ran before: its socket may already be gone with its temp dir
 * (then `redis-cli shutdown` reaches nothing) and a Redis whose dir is gone ignores SIGTERM (its final save
 * fails), so the pid read at start gets SIGKILL when the polite way did not work.
 */
export async function stopRedisServer(pid: number, socket: string): Promise<void> {
  if (existsSync(socket)) spawnSync('redis-cli', ['-s', socket, 'shutdown', 'nosave'])
  for (let i = 0; i < 40 && alive(pid); i++) await sleep(25)
  if (alive(pid)) process.kill(pid, 'SIGKILL')
  for (let i = 0; i < 200 && alive(pid); i++) await sleep(10)
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    // a zombie (not yet reaped by init) counts as gone
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'))
  } catch {
    return false
  }
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
