// Talking to the dedicated Redis on its Unix socket.
import { createClient } from 'redis'

export type RedisClient = ReturnType<typeof createClient>

export async function withRedis<T>(socket: string, fn: (r: RedisClient) => Promise<T>): Promise<T> {
  const client = createClient({ socket: { path: socket, reconnectStrategy: false } })
  client.on('error', () => {}) // connect() rejects with the error; don't also crash on the event
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.quit().catch(() => client.destroy())
  }
}

/**
 * How many users xo-server would find: ids in `xo:user_ids` whose record `xo:user:<id>` exists (upstream's
 * `users.exists()` skips an id without one). When it is 0, xo-server creates admin@admin.net on start.
 */
export function countUsers(socket: string): Promise<number> {
  return withRedis(socket, async (r) => {
    const ids = await r.sMembers('xo:user_ids')
    return ids.length === 0 ? 0 : r.exists(ids.map((id) => `xo:user:${id}`))
  })
}

export async function pingRedis(socket: string): Promise<boolean> {
  try {
    return (await withRedis(socket, (r) => r.ping())) === 'PONG'
  } catch {
    return false
  }
}
