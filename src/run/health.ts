// Is XO healthy? `/rest/v0/ping` answers, and the declared admin can sign in (REST with Basic auth).
// Over HTTPS the server's certificate is pinned to the file the spec names, so the check trusts exactly
// the certificate xo-server was configured with — self-signed or not, whatever name it carries.
import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { TLSSocket } from 'node:tls'
import type { Spec } from '../spec/schema.ts'

export interface Endpoint {
  url: string
  /** PEM of the certificate the server must present (HTTPS only). */
  pinnedCert?: string
}

export interface Credentials {
  email: string
  password: string
}

export interface HealthReport {
  healthy: boolean
  ping: boolean
  signIn: boolean | undefined
  reason?: string
}

/** Where the local xo-server can be reached: HTTPS when on, else HTTP; loopback when bound to any address. */
export function localEndpoint(spec: Spec): Endpoint {
  const host = ['0.0.0.0', '::', ''].includes(spec.xo.host) ? '127.0.0.1' : spec.xo.host
  const h = host.includes(':') ? `[${host}]` : host
  if (spec.xo.ssl.enable) {
    let pinnedCert: string | undefined
    try {
      pinnedCert = readFileSync(spec.xo.ssl.cert, 'utf8')
    } catch {
      pinnedCert = undefined
    }
    return { url: `https://${h}:${spec.xo.httpsPort}`, pinnedCert }
  }
  return { url: `http://${h}:${spec.xo.port}` }
}

interface Reply {
  status: number
  body: string
}

export function get(ep: Endpoint, path: string, auth?: Credentials, timeoutMs = 5000): Promise<Reply> {
  const url = new URL(path, ep.url)
  const headers: Record<string, string> = {}
  if (auth)
    headers.authorization = `Basic ${Buffer.from(`${auth.email}:${auth.password}`).toString('base64')}`
  const secure = url.protocol === 'https:'
  return new Promise((resolve, reject) => {
    const req = (secure ? httpsRequest : httpRequest)(
      url,
      // The pin below replaces name/CA verification: we check the exact certificate instead. No agent: a
      // resumed TLS session carries no peer certificate to pin, so every check makes a full handshake.
      { headers, timeout: timeoutMs, agent: false, ...(secure ? { rejectUnauthorized: false } : {}) },
      (res) => {
        if (secure && ep.pinnedCert) {
          const peer = (res.socket as TLSSocket).getPeerX509Certificate?.()
          const want = new X509Certificate(ep.pinnedCert)
          if (!peer || peer.fingerprint256 !== want.fingerprint256) {
            res.destroy()
            const got = peer?.fingerprint256 ?? 'none'
            reject(
              new Error(`the server presented certificate ${got}, not the configured ${want.fingerprint256}`),
            )
            return
          }
        }
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (c) => {
          body += c
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      },
    )
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)))
    req.on('error', reject)
    req.end()
  })
}

export async function checkHealth(ep: Endpoint, admin?: Credentials): Promise<HealthReport> {
  try {
    const ping = await get(ep, '/rest/v0/ping')
    if (ping.status !== 200 || !/"pong"/.test(ping.body))
      return { healthy: false, ping: false, signIn: undefined, reason: `ping answered ${ping.status}` }
  } catch (e) {
    return { healthy: false, ping: false, signIn: undefined, reason: `ping failed: ${(e as Error).message}` }
  }
  if (!admin) return { healthy: true, ping: true, signIn: undefined }
  try {
    const r = await get(ep, '/rest/v0/users?fields=id,email,permission', admin)
    if (r.status === 200) return { healthy: true, ping: true, signIn: true }
    return {
      healthy: false,
      ping: true,
      signIn: false,
      reason: `sign-in as ${admin.email} answered ${r.status}`,
    }
  } catch (e) {
    return { healthy: false, ping: true, signIn: false, reason: `sign-in failed: ${(e as Error).message}` }
  }
}

/** Poll until healthy or the deadline passes; returns the last report. */
export async function waitHealthy(
  ep: Endpoint,
  admin: Credentials | undefined,
  opts: { timeoutMs: number; intervalMs?: number; stillRunning?: () => boolean },
): Promise<HealthReport> {
  const deadline = Date.now() + opts.timeoutMs
  let last: HealthReport = { healthy: false, ping: false, signIn: undefined, reason: 'not checked yet' }
  while (Date.now() < deadline) {
    if (opts.stillRunning && !opts.stillRunning())
      return { ...last, healthy: false, reason: 'xo-server exited' }
    last = await checkHealth(ep, admin)
    if (last.healthy) return last
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 500))
  }
  return { ...last, reason: `not healthy within ${Math.round(opts.timeoutMs / 1000)} s: ${last.reason}` }
}
