// What status and doctor want to know about the dedicated Redis, in one connection: does it answer, how many
// keys and XO users, is AOF on, which eviction policy, and whether the well-known admin@admin.net exists.
import { withRedis } from '../run/redis.ts'
import { readUsers } from '../run/xo-records.ts'

export const DEFAULT_ADMIN_EMAIL = 'admin@admin.net'

export interface RedisFacts {
  socket: string
  answers: boolean
  error?: string
  keys?: number
  users?: number
  /** Redis answers but the users could not be read (a record of a type upstream never writes, an ACL). */
  usersError?: string
  /** Users whose record xoa cannot read (xo-server encrypts them with redis.encryptCredentialDatabase). */
  encryptedUsers?: number
  /** undefined when CONFIG GET is not allowed. */
  aof?: boolean
  evictionPolicy?: string
  /** undefined when Redis does not answer, or unknown because records are encrypted. */
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
      const facts: RedisFacts = {
        socket,
        answers: (await r.ping()) === 'PONG',
        keys: await r.dbSize(),
        aof: appendonly === undefined ? undefined : appendonly === 'yes',
        evictionPolicy: await config('maxmemory-policy'),
      }
      // Users as upstream stores them (JSON strings, older hashes, or encrypted): see xo-records.ts. Data that
      // cannot be read is a finding about the data, never "Redis does not answer".
      try {
        const users = await readUsers(r)
        return {
          ...facts,
          users: users.count,
          encryptedUsers: users.unreadable,
          defaultAdmin: users.has(DEFAULT_ADMIN_EMAIL),
          declaredAdmin: users.has(declaredEmail),
        }
      } catch (e) {
        return { ...facts, usersError: (e as Error).message || String(e) }
      }
    })
  } catch (e) {
    return { socket, answers: false, error: (e as Error).message || String(e) }
  }
}
