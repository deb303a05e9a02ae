// What status and doctor want to know about the dedicated Redis, in one connection: does it answer, how many
// keys and XO users, is AOF on, which eviction policy, and whether the well-known admin@admin.net exists.
import { withRedis } from '../run/redis.ts'

export const DEFAULT_ADMIN_EMAIL = 'admin@admin.net'

export interface RedisFacts {
  socket: string
  answers: boolean
  error?: string
  keys?: number
  users?: number
  /** undefined when CONFIG GET is not allowed. */
  aof?: boolean
  evictionPolicy?: string
  defaultAdmin?: boolean
  declaredAdmin?: boolean
}

export async function observeRedis(socket: string, declaredEmail: string): Promise<RedisFacts> {
  try {
    return await withRedis(socket, async (r) => {
      const config = async (name: string) => {
        try {
          return (await r.configGet(name))[name]
        } catch {
          return undefined // CONFIG renamed or disabled: say "unknown", not wrong
        }
      }
      const appendonly = await config('appendonly')
      // xo-server keeps users as the set xo:user_ids and one hash xo:user:<id> each, with an email field.
      const ids = await r.sMembers('xo:user_ids')
      const emails = await Promise.all(ids.map((id) => r.hGet(`xo:user:${id}`, 'email')))
      return {
        socket,
        answers: (await r.ping()) === 'PONG',
        keys: await r.dbSize(),
        users: ids.length,
        aof: appendonly === undefined ? undefined : appendonly === 'yes',
        evictionPolicy: await config('maxmemory-policy'),
        defaultAdmin: emails.includes(DEFAULT_ADMIN_EMAIL),
        declaredAdmin: emails.includes(declaredEmail),
      }
    })
  } catch (e) {
    return { socket, answers: false, error: (e as Error).message || String(e) }
  }
}
