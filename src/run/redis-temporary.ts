// Restore on a host where nothing runs redis-xo right now: `xoa up` was stopped first (as restore demands), and
// it owned Redis. Restore then starts the same Redis `xoa up` would — its rendered config, as the service
// account — for the length of the restore; SIGTERM makes it save and exit afterwards.
import { existsSync } from 'node:fs'
import { hostLayout } from '../host/layout.ts'
import { hostTool } from '../platform/tool.ts'
import type { Spec } from '../spec/schema.ts'
import { XoaError } from '../util/errors.ts'
import { runAsServiceAccount } from './bootstrap.ts'
import { pingRedis } from './redis.ts'
import { startChild } from './supervisor.ts'

const START_TIMEOUT_MS = 30_000

export async function withRedisRunning<T>(
  spec: Spec,
  log: (line: string) => void,
  fn: () => Promise<T>,
): Promise<T> {
  const socket = spec.redis.socket
  if (await pingRedis(socket)) return fn()
  const config = hostLayout(spec, 'foreground').redis.config
  if (!existsSync(config))
    throw new XoaError(`Redis does not answer on ${socket} (redis.socket), and ${config} is missing`, {
      hint: 'start redis-xo (systemctl start redis-xo), or run xoa up once so it writes its Redis config',
    })
  const owner = await runAsServiceAccount(spec)
  const redis = startChild(
    {
      name: 'redis-xo',
      command: hostTool('redis-server', 'starting Redis for this command'),
      args: [config, '--supervised', 'no'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      ...owner,
    },
    log,
  )
  try {
    const deadline = Date.now() + START_TIMEOUT_MS
    while (!(await pingRedis(socket))) {
      if (!redis.running() || Date.now() > deadline)
        throw new XoaError(`could not start Redis from ${config} for the restore; nothing was changed`, {
          hint: 'run xoa up once, stop it, then run xoa restore again',
        })
      await new Promise((r) => setTimeout(r, 100))
    }
    log(`xoa | started Redis from ${config} for the restore (xoa up is not running)`)
    return await fn()
  } finally {
    await redis.stop()
  }
}
