// The TCP ports xo-server will listen on, from the spec alone, and what is wrong with them: two listeners on one
// port, a listener the firewall keeps closed, a default port opened for nothing. `xoa doctor` prints these.
import { createServer } from 'node:net'
import type { Spec } from '../spec/schema.ts'

export interface Listener {
  /** The spec field that sets the port, for messages. */
  field: string
  host: string
  port: number
  tls: boolean
}

export interface PortProblem {
  severity: 'error' | 'warning' | 'info'
  field: string
  message: string
}

const LOOPBACK = /^(127\.|::1$|localhost$)/

/**
 * Mirrors the listeners the xo-server config renderer writes ([http.listen.0] HTTP, [http.listen.1] HTTPS),
 * then applies xo.settings.http.listen the way the config merge does: entries with the same key override ours,
 * other keys add listeners.
 */
export function serverListeners(spec: Spec): Listener[] {
  const { xo } = spec
  const byKey = new Map<string, Listener>([
    ['0', { field: 'xo.port', host: xo.host, port: xo.port, tls: false }],
  ])
  if (xo.ssl.enable) byKey.set('1', { field: 'xo.httpsPort', host: xo.host, port: xo.httpsPort, tls: true })
  const extra = ((xo.settings as { http?: { listen?: unknown } }).http?.listen ?? {}) as Record<
    string,
    unknown
  >
  for (const [key, value] of Object.entries(typeof extra === 'object' && extra ? extra : {})) {
    if (!value || typeof value !== 'object') continue
    const v = value as { hostname?: unknown; port?: unknown; cert?: unknown; autoCert?: unknown }
    const base = byKey.get(key)
    const port = typeof v.port === 'number' ? v.port : base?.port
    if (port === undefined) continue // a socket path or an incomplete entry: not a TCP port
    byKey.set(key, {
      field: typeof v.port === 'number' ? `xo.settings.http.listen.${key}.port` : (base?.field ?? ''),
      host: typeof v.hostname === 'string' ? v.hostname : (base?.host ?? xo.host),
      port,
      tls: v.cert !== undefined || v.autoCert === true || (base?.tls ?? false),
    })
  }
  return [...byKey.values()]
}

export function checkPorts(spec: Spec): PortProblem[] {
  const listeners = serverListeners(spec)
  const problems: PortProblem[] = []
  const seen = new Map<number, Listener>()
  for (const l of listeners) {
    const other = seen.get(l.port)
    if (other && overlaps(other.host, l.host))
      problems.push({
        severity: 'error',
        field: l.field,
        message: `port ${l.port} is also used by ${other.field}: xo-server would fail to start with EADDRINUSE`,
      })
    seen.set(l.port, l)
  }
  if (!spec.firewall.enable) return problems
  const open = new Set(spec.firewall.ports)
  for (const l of listeners) {
    if (!open.has(l.port) && !LOOPBACK.test(l.host))
      problems.push({
        severity: 'warning',
        field: 'firewall.ports',
        message: `${l.field} = ${l.port} is not in firewall.ports: clients cannot reach it; add ${l.port}`,
      })
  }
  const used = new Set(listeners.map((l) => l.port))
  for (const p of [80, 443])
    if (open.has(p) && !used.has(p))
      problems.push({
        severity: 'info',
        field: 'firewall.ports',
        message: `port ${p} is open but xo-server does not listen on it (a seed default left after a port change?)`,
      })
  return problems
}

function overlaps(a: string, b: string): boolean {
  const wild = (h: string) => h === '0.0.0.0' || h === '::'
  return a === b || wild(a) || wild(b)
}

/**
 * Can something bind host:port right now? false when it is taken (EADDRINUSE); other failures — an address
 * not on this machine, a privileged port without the right — are thrown, since "free" would be a lie.
 * A running xo-server makes its own ports busy: ask only when it is stopped, or compare with its PID.
 */
export function isPortFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE') resolve(false)
      else reject(e)
    })
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)))
  })
}
