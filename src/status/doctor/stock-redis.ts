// Debian's stock Redis next to xoa's: when `xoa apply` installed redis-server it masked redis-server.service
// first (and recorded it); when the package was there before, apply leaves that unit alone, and this check warns
// if an unauthenticated Redis answers on TCP — any local user can read and write such a database.
import { connect } from 'node:net'
import { readMaskRecord } from '../../plan/stock-units.ts'
import { statePaths } from '../../spec/paths.ts'
import { readText } from '../host.ts'
import { type Check, type Finding, ok, skip, warn } from './types.ts'

const STOCK_UNIT = 'redis-server.service'
const STOCK_CONFIG = '/etc/redis/redis.conf'

/** The TCP port of the stock config (`port N`; Redis's default 6379 when unset); undefined for `port 0`. */
export function stockRedisPort(config: string | undefined): number | undefined {
  const m = config ? /^\s*port\s+(\d+)\s*$/m.exec(config) : null
  const port = m ? Number(m[1]) : 6379
  return port === 0 ? undefined : port
}

export type ProbeAnswer = 'open' | 'auth' | 'none'

/** PING without credentials: `+PONG` is an open Redis, `-NOAUTH`/`-ERR…auth` one that wants a password. */
export function classify(reply: string | undefined): ProbeAnswer {
  if (reply === undefined) return 'none'
  if (reply.startsWith('+PONG')) return 'open'
  return /NOAUTH|auth/i.test(reply) ? 'auth' : 'none'
}

/** What a Redis on 127.0.0.1:PORT answers a PING without credentials. */
export async function probeRedis(port: number): Promise<ProbeAnswer> {
  return classify(await ping(port))
}

function ping(port: number, timeoutMs = 2000): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port })
    const done = (v: string | undefined) => {
      s.destroy()
      resolve(v)
    }
    s.setTimeout(timeoutMs, () => done(undefined))
    s.on('error', () => done(undefined))
    s.on('connect', () => s.write('PING\r\n'))
    s.on('data', (d) => done(d.toString('utf8')))
  })
}

export const stockRedisCheck: Check = {
  name: 'stock-redis',
  async run(ctx) {
    if (!ctx.host.live) return [skip('stock-redis', 'not the live host: TCP is not probed under --root')]
    const masked = readMaskRecord(statePaths(ctx.spec).maskedUnits).find((m) => m.unit === STOCK_UNIT)
    const port = stockRedisPort(readText(ctx.host, STOCK_CONFIG))
    const out: Finding[] = []
    const answer = port === undefined ? 'none' : await probeRedis(port)
    if (answer === 'open')
      out.push(
        warn(
          'stock-redis',
          `an unauthenticated Redis listens on 127.0.0.1:${port} (Debian's ${STOCK_UNIT}${masked ? `, masked by xoa apply on ${masked.at} and unmasked since` : ', installed before xoa'}): any local user can read and write it; xoa's own Redis is redis-xo, on a socket`,
          `if nothing else uses it: systemctl disable --now ${STOCK_UNIT} && systemctl mask ${STOCK_UNIT}; else set requirepass (or port 0) in ${STOCK_CONFIG}`,
        ),
      )
    else if (answer === 'auth')
      out.push(ok('stock-redis', `the Redis on 127.0.0.1:${port} requires a password`))
    else
      out.push(
        ok(
          'stock-redis',
          `no Redis answers on TCP ${port ?? '(port 0)'}${masked ? ` (${STOCK_UNIT} masked by xoa apply on ${masked.at})` : ''}`,
        ),
      )
    return out
  },
}
