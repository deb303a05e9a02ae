// A JSON-RPC session with the local xo-server (xo-lib over wss://…/api/), signed in as the declared admin. The
// WebSocket runs on a TLS connection that connectPinned already proved to carry exactly the certificate xoa
// installed: the admin's password and every secret xoa sends go to our xo-server or nowhere. xo-lib's WebSocket
// client (ws) takes an `agent`; ours hands out that one checked socket once and refuses any other connection.
import { request as httpRequest } from 'node:http'
import { Agent } from 'node:https'
import type { TLSSocket } from 'node:tls'
import xoLib from 'xo-lib'
import { connectPinned, localEndpoint, signInRefusal } from '../run/health.ts'
import type { Spec } from '../spec/schema.ts'
import { XoaError } from '../util/errors.ts'

export interface XoSession {
  /** Calls `method`; fails with an XoRpcError carrying XO's message (never the params: they hold secrets). */
  call(method: string, params?: object): Promise<unknown>
  /** GET a path xo-server registered for this session (`$getFrom`), over a new pinned connection. */
  download(path: string): Promise<Buffer>
  close(): Promise<void>
}

export interface SessionOptions {
  /** Handshake, sign-in and each call (XO awaits a pool connection in server.enable: give it time). */
  timeoutMs?: number
}

/** XO answered a call with an error: its JSON-RPC code and message, and what XO said was wrong. */
export class XoRpcError extends XoaError {
  readonly method: string
  readonly code: number | undefined
  readonly data: unknown
  constructor(method: string, e: { message?: string; code?: number; data?: unknown }) {
    super(`XO ${method}: ${e.message ?? String(e)}${detail(e.data)}`)
    this.name = 'XoRpcError'
    this.method = method
    this.code = e.code
    this.data = e.data
  }
}

/** invalidParameters (code 10) lists ajv errors: where and what, which name fields, never their values. */
function detail(data: unknown): string {
  const errors = (data as { errors?: { instancePath?: string; message?: string }[] } | undefined)?.errors
  if (!Array.isArray(errors) || !errors.length) return ''
  return ` (${errors.map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`.trim()).join('; ')})`
}

/** An https.Agent that gives the checked socket to the first request and refuses every later connection. */
class OneSocketAgent extends Agent {
  #socket: TLSSocket | undefined
  constructor(socket: TLSSocket) {
    super({ keepAlive: false })
    this.#socket = socket
  }
  override createConnection(): TLSSocket {
    const s = this.#socket
    if (!s) throw new Error('the pinned connection to xo-server was already used')
    this.#socket = undefined
    return s
  }
}

function target(spec: Spec): { host: string; port: number; url: URL; pem: string } {
  const ep = localEndpoint(spec)
  const refusal = signInRefusal(ep)
  if (refusal) throw new XoaError(`XO's API not used: ${refusal}`)
  const url = new URL(ep.url)
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: Number(url.port) || 443,
    url,
    pem: ep.pinnedCert!,
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new XoaError(`${what}: no answer from xo-server within ${ms} ms`)), ms)
  })
  return Promise.race([p, late]).finally(() => clearTimeout(timer))
}

export async function openSession(
  spec: Spec,
  admin: { email: string; password: string },
  opts: SessionOptions = {},
): Promise<XoSession> {
  const timeoutMs = opts.timeoutMs ?? 120_000
  const { host, port, url, pem } = target(spec)
  const socket = await connectPinned(host, port, pem, Math.min(timeoutMs, 10_000)).catch((e: Error) => {
    throw new XoaError(`XO's API at ${url.origin}: ${e.message}`)
  })
  // A reset once the session runs (xo-server stopped) fails the pending calls through the WebSocket's close; the
  // socket's own error event must not crash xoa.
  socket.on('error', () => {})
  const xo = new xoLib.default({ url: url.origin })
  xo._opts = { agent: new OneSocketAgent(socket), perMessageDeflate: false }
  // ws emits connection errors as events too; the awaited promises below report them.
  xo.on('error', () => {})
  try {
    await withTimeout(xo.open(), timeoutMs, `XO's API at ${url.origin}`)
  } catch (e) {
    socket.destroy()
    throw e instanceof XoaError ? e : new XoaError(`XO's API at ${url.origin}: ${(e as Error).message}`)
  }
  try {
    // session.signIn, the method upstream keeps (signInWithPassword is its deprecated alias).
    await withTimeout(xo.signIn(admin), timeoutMs, 'XO session.signIn')
  } catch (e) {
    await xo.close().catch(() => {})
    if (e instanceof XoaError) throw e
    throw new XoRpcError('session.signIn', e as { message?: string; code?: number })
  }
  return {
    async call(method, params) {
      try {
        return await withTimeout(xo.call(method, params), timeoutMs, `XO ${method}`)
      } catch (e) {
        if (e instanceof XoaError) throw e
        throw new XoRpcError(method, e as { message?: string; code?: number; data?: unknown })
      }
    },
    async download(path) {
      if (!path.startsWith('/api/')) throw new XoaError(`XO answered an unexpected download path ${path}`)
      return withTimeout(pinnedGet(host, port, pem, path, timeoutMs), timeoutMs, `GET ${path}`)
    },
    // Closing a session whose server is already gone is done, not an error.
    close: () => xo.close().catch(() => {}),
  }
}

/** One GET on a fresh pinned connection, the whole body as bytes (the path is a one-shot token). */
async function pinnedGet(host: string, port: number, pem: string, path: string, timeoutMs: number) {
  const socket = await connectPinned(host, port, pem, Math.min(timeoutMs, 10_000))
  return new Promise<Buffer>((resolve, reject) => {
    const req = httpRequest({ host, port, path, createConnection: () => socket }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        if (res.statusCode === 200) resolve(Buffer.concat(chunks))
        else reject(new XoaError(`GET ${path.replace(/\/api\/[^/]+/, '/api/…')} answered ${res.statusCode}`))
      })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}
