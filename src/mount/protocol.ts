// The wire format between the shim and the daemon: one JSON line each way, one request per connection.
import type { MountRequest } from './types.ts'

export const MAX_REQUEST_BYTES = 64 * 1024
export const READ_TIMEOUT_MS = 5000

export interface BrokerReply {
  code: number
  stdout: string
  stderr: string
  /** Present when the policy or a path check refused the request. */
  refused?: string
}

export type ParsedRequest = { ok: true; request: MountRequest } | { ok: false; reason: string }

/** Shape check only; the policy decides what the request may do. */
export function parseRequest(text: string): ParsedRequest {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch {
    return { ok: false, reason: 'malformed request: not JSON' }
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    return { ok: false, reason: 'malformed request: not a JSON object' }
  const extra = Object.keys(doc).filter((k) => k !== 'argv' && k !== 'env')
  if (extra.length > 0)
    return { ok: false, reason: `malformed request: unknown field ${JSON.stringify(extra[0])}` }
  const { argv, env = {} } = doc as { argv?: unknown; env?: unknown }
  if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string'))
    return { ok: false, reason: 'malformed request: argv must be an array of strings' }
  if (typeof env !== 'object' || env === null || Array.isArray(env))
    return { ok: false, reason: 'malformed request: env must be an object' }
  if (!Object.values(env).every((v) => typeof v === 'string'))
    return { ok: false, reason: 'malformed request: env values must be strings' }
  return { ok: true, request: { argv, env: { ...(env as Record<string, string>) } } }
}

/** The request as logged: PASSWD never appears, nor anything that looks like a password option. */
export function describeRequest(request: MountRequest): string {
  const argv = request.argv.map((a) => JSON.stringify(a.replace(/(pass[a-z0-9_]*=)[^,]*/gi, '$1***')))
  const env = Object.keys(request.env)
    .map((k) => (k === 'PASSWD' ? 'PASSWD=***' : `${k}=${JSON.stringify(request.env[k])}`))
    .join(' ')
  return `${argv.join(' ')}${env ? ` env: ${env}` : ''}`
}
