// Is XO healthy? `/rest/v0/ping` answers, and the declared admin can sign in (REST with Basic auth).
// The admin's password goes only to a peer proven to be our xo-server: over TLS, and only once the handshake
// showed exactly the certificate the spec names (checked at secureConnect, before a byte of HTTP is written).
// Whoever else holds the port — a plain HTTP listener, a server with another certificate — gets a ping at most.
import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { type TLSSocket, connect as tlsConnect } from 'node:tls'
import type { Spec } from '../spec/schema.ts'

export interface Endpoint {
  url: string
  /** PEM of the certificate the server must present (HTTPS only). */
  pinnedCert?: string
  /** Why the admin's credentials must not be sent here ("sign-in not checked: …" is said with it). */
  noSignIn?: string
}

export interface Credentials {
  email: string
  password: string
}

export interface HealthReport {
  healthy: boolean
  ping: boolean
  signIn: boolean | undefined
  /** Set when sign-in was deliberately not tried: the reason, for status and doctor to print. */
  signInSkipped?: string
  reason?: string
}

/** Where the local xo-server can be reached: HTTPS when on, else HTTP; loopback when bound to any address. */
export function localEndpoint(spec: Spec): Endpoint {
  const host = ['0.0.0.0', '::', ''].includes(spec.xo.host) ? '127.0.0.1' : spec.xo.host
  const h = host.includes(':') ? `[${host}]` : host
  if (!spec.xo.ssl.enable)
    return {
      url: `http://${h}:${spec.xo.port}`,
      noSignIn: 'HTTPS is off (xo.ssl.enable = false), the password would cross the port in clear',
    }
  const url = `https://${h}:${spec.xo.httpsPort}`
  let pinnedCert: string
  try {
    pinnedCert = readFileSync(spec.xo.ssl.cert, 'utf8')
    new X509Certificate(pinnedCert) // unreadable as a certificate: nothing to pin
  } catch {
    return { url, noSignIn: `no certificate to pin at ${spec.xo.ssl.cert}` }
  }
  return { url, pinnedCert }
}

/** The reason sign-in cannot be tried on this endpoint, or undefined when it can. Pure. */
export function signInRefusal(ep: Endpoint): string | undefined {
  if (ep.noSignIn) return ep.noSignIn
  if (new URL(ep.url).protocol !== 'https:') return 'the endpoint is not HTTPS'
  if (!ep.pinnedCert) return 'no certificate to pin'
  return undefined
}

interface Reply {
  status: number
  body: string
}

/**
 * A TLS connection whose peer presented exactly `pinnedPem` (same DER), resolved only after that check; any other
 * peer is destroyed before anything is written. No session cache: a resumed session carries no certificate.
 */
export function connectPinned(
  host: string,
  port: number,
  pinnedPem: string,
  timeoutMs: number,
): Promise<TLSSocket> {
  const want = new X509Certificate(pinnedPem)
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({
      host,
      port,
      // The pin replaces name and CA verification: the exact certificate is the trust, whatever name it has.
      rejectUnauthorized: false,
      servername: /^[\d.]+$|:/.test(host) ? undefined : host,
    })
    const timer = setTimeout(
      () => socket.destroy(new Error(`no TLS handshake within ${timeoutMs} ms`)),
      timeoutMs,
    )
    socket.once('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
    socket.once('secureConnect', () => {
      clearTimeout(timer)
      const peer = socket.getPeerX509Certificate()
      if (!peer?.raw.equals(want.raw)) {
        socket.destroy()
        const got = peer?.fingerprint256 ?? 'none'
        reject(
          new Error(`the server presented certificate ${got}, not the configured ${want.fingerprint256}`),
        )
        return
      }
      resolve(socket)
    })
  })
}

/** GET `path`; `auth` only ever travels over a pinned TLS connection (refused otherwise, before connecting). */
export async function get(ep: Endpoint, path: string, auth?: Credentials, timeoutMs = 5000): Promise<Reply> {
  const url = new URL(path, ep.url)
  const secure = url.protocol === 'https:'
  if (auth) {
    const refusal = signInRefusal(ep)
    if (refusal) throw new Error(`credentials not sent: ${refusal}`)
  }
  const host = url.hostname.replace(/^\[|\]$/g, '')
  const port = Number(url.port) || (secure ? 443 : 80)
  // Over HTTPS the socket is verified before the request exists; a peer without a pin gets only a ping.
  const socket = secure
    ? ep.pinnedCert
      ? await connectPinned(host, port, ep.pinnedCert, timeoutMs)
      : tlsConnect({ host, port, rejectUnauthorized: false })
    : undefined
  const headers: Record<string, string> = {}
  if (auth)
    headers.authorization = `Basic ${Buffer.from(`${auth.email}:${auth.password}`).toString('base64')}`
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host,
        port,
        path: url.pathname + url.search,
        headers,
        timeout: timeoutMs,
        // No agent, no pool: this request gets this connection (the checked one) and nothing reuses it.
        ...(socket ? { createConnection: () => socket } : { agent: false }),
      },
      (res) => {
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
  const refusal = signInRefusal(ep)
  if (refusal) return { healthy: true, ping: true, signIn: undefined, signInSkipped: refusal }
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
