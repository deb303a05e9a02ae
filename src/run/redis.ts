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

/** xo-server keeps user ids in the set `xo:user_ids`; when it is empty xo-server creates admin@admin.net. */
export function countUsers(socket: string): Promise<number> {
  return withRedis(socket, (r) => r.sCard('xo:user_ids'))
}

export async function pingRedis(socket: string): Promise<boolean> {
  try {
    return (await withRedis(socket, (r) => r.ping())) === 'PONG'
  } catch {
    return false
  }
}
