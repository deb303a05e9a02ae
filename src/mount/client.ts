// The shim's side: send one request to the broker, get the tool's exit code and output back.
import { connect } from 'node:net'
import type { BrokerReply } from './protocol.ts'
import type { MountRequest } from './types.ts'

/** The broker could not be reached or answered nonsense; `code` is the errno code when there was one. */
export class BrokerUnavailable extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message)
  }
}

/** Only these reach the broker: mount.cifs reads the SMB user name and password from them. */
export function forwardedEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {}
  for (const k of ['USER', 'PASSWD'] as const) if (env[k] !== undefined) out[k] = env[k]
  return out
}

export function requestBroker(
  socketPath: string,
  request: MountRequest,
  timeoutMs = 180_000,
): Promise<BrokerReply> {
  return new Promise((resolve, reject) => {
    const sock = connect(socketPath)
    const chunks: Buffer[] = []
    sock.setTimeout(timeoutMs, () => {
      sock.destroy()
      reject(new BrokerUnavailable(`no answer from the mount broker at ${socketPath} within ${timeoutMs} ms`))
    })
    sock.on('connect', () => sock.end(`${JSON.stringify(request)}\n`))
    sock.on('data', (c: Buffer) => chunks.push(c))
    sock.on('error', (e: NodeJS.ErrnoException) =>
      reject(
        new BrokerUnavailable(
          `cannot reach the mount broker at ${socketPath}: ${e.code ?? e.message}`,
          e.code,
        ),
      ),
    )
    sock.on('end', () => {
      try {
        const r = JSON.parse(Buffer.concat(chunks).toString('utf8')) as BrokerReply
        if (typeof r.code !== 'number') throw new Error('no exit code')
        resolve(r)
      } catch {
        reject(new BrokerUnavailable(`the mount broker at ${socketPath} sent a malformed answer`))
      }
    })
  })
}
