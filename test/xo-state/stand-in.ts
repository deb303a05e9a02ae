// The stand-in xo-server on HTTPS (a generated certificate) over a real Redis, with a declared admin, and the
// spec that points xoa at it: what the XO-state client tests open their session on.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { validateSpec } from '../../src/spec/load.ts'
import type { Spec } from '../../src/spec/schema.ts'
import { generateSelfSigned } from '../../src/tls/generate.ts'
import { startRedis } from '../backup/redis-server.ts'
import { bundleMiniXo } from '../fixtures/mini-xo/bundle.ts'
import { connect, setUser } from '../fixtures/mini-xo/users.ts'
import { freePort, tempDir } from '../helpers.ts'

type T = { after(fn: () => unknown): void }

export const admin = { email: 'ops@example.test', password: 'S3cret-xo-state-pw' }
export const names = { commonName: 'xo.test', dns: ['xo.test'], ips: ['127.0.0.1'] }

let bundled: Promise<string> | undefined

export function specFor(dir: string, o: { httpsPort: number; cert: string; ssl?: boolean }): Spec {
  return validateSpec({
    xo: {
      host: '127.0.0.1',
      port: o.httpsPort + 1,
      httpsPort: o.httpsPort,
      stateDir: join(dir, 'state'),
      ssl: { enable: o.ssl ?? true, dir, key: join(dir, 'key.pem'), cert: o.cert },
    },
    service: { user: 'nobody', group: 'nogroup' },
    webAdmin: { email: admin.email },
  })
}

export interface StandIn {
  spec: Spec
  dir: string
  redisSocket: string
  output(): string
  /** SIGKILL the stand-in (a crash, as the client sees it). */
  kill(): void
  /** Run `fn` on a Redis client of the stand-in's database. */
  redis<R>(fn: (c: Awaited<ReturnType<typeof connect>>) => Promise<R>): Promise<R>
}

export async function startStandIn(t: T): Promise<StandIn> {
  const dir = tempDir(t, 'xoa-xo-state-')
  const redis = await startRedis(t)
  const withRedis = async <R>(fn: (c: Awaited<ReturnType<typeof connect>>) => Promise<R>) => {
    const c = await connect({ redis: { socket: redis.socket } })
    try {
      return await fn(c)
    } finally {
      await c.quit()
    }
  }
  await withRedis((c) => setUser(c, admin.email, admin.password))
  const tls = await generateSelfSigned({ names })
  writeFileSync(join(dir, 'cert.pem'), tls.certPem)
  writeFileSync(join(dir, 'key.pem'), tls.keyPem, { mode: 0o600 })
  bundled ??= bundleMiniXo('server')
  writeFileSync(join(dir, 'cli.mjs'), await bundled)
  const httpsPort = await freePort()
  mkdirSync(join(dir, 'home', 'xo-server'), { recursive: true })
  writeFileSync(
    join(dir, 'home', 'xo-server', 'config.toml'),
    `[http.listen.0]\nhostname = '127.0.0.1'\nport = ${httpsPort}\ncert = '${join(dir, 'cert.pem')}'\n` +
      `key = '${join(dir, 'key.pem')}'\n\n[redis]\nsocket = '${redis.socket}'\n`,
  )
  const child: ChildProcess = spawn(process.execPath, [join(dir, 'cli.mjs')], {
    cwd: dir,
    env: { PATH: process.env.PATH, XDG_CONFIG_HOME: join(dir, 'home') },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout!.on('data', (d) => (output += d))
  child.stderr!.on('data', (d) => (output += d))
  t.after(() => child.kill('SIGKILL'))
  for (let i = 0; i < 200 && !/Web server listening/.test(output); i++) await sleep(50)
  if (!/Web server listening/.test(output)) throw new Error(`the stand-in XO did not start:\n${output}`)
  return {
    spec: specFor(dir, { httpsPort, cert: join(dir, 'cert.pem') }),
    dir,
    redisSocket: redis.socket,
    output: () => output,
    kill: () => child.kill('SIGKILL'),
    redis: withRedis,
  }
}
