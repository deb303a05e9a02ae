// `xoa status` as data: the current and previous release, xo-server (running, since, health), Redis, the
// certificate, what is mounted, the last upgrade. Gathering does I/O; deciding what is wrong is pure.
import { join } from 'node:path'
import { currentId, previousId, readManifest } from '../build/store.ts'
import { checkHealth, type HealthReport, localEndpoint } from '../run/health.ts'
import { statePaths } from '../spec/paths.ts'
import type { Spec } from '../spec/schema.ts'
import { type CertificateInfo, readCertificateInfo } from '../tls/inspect.ts'
import { ledgerPath } from '../tls/ledger.ts'
import { readAdminPassword } from './admin-password.ts'
import { type HostView, hostSpec, hostStatePaths, readText } from './host.ts'
import { type MountEntry, mountsUnder, readMountinfo } from './procfs.ts'
import { observeRedis, type RedisFacts } from './redis-facts.ts'
import { observeServer } from './server.ts'

export interface ReleaseSummary {
  id: string
  version?: string
  rev?: string
  node?: string
  builtAt?: string
  /** False when the link points at something that is not a complete release. */
  complete: boolean
}

export interface LastUpgrade {
  when?: string
  outcome?: string
  from?: string
  to?: string
  /** Why it ended so (upgrade-last.json's reason): what a person reads to act. */
  reason?: string
}

export interface StatusReport {
  ok: boolean
  /** What is wrong, one line each; empty when healthy. */
  problems: string[]
  mode: 'systemd' | 'foreground'
  release: { current?: ReleaseSummary; previous?: ReleaseSummary }
  server: {
    running: boolean
    /** "systemd" with its state, or "none" (not under systemd: `xoa up` or nothing). */
    supervisor: 'systemd' | 'none'
    activeState?: string
    pid?: number
    since?: string
    uptimeSeconds?: number
  }
  health?: HealthReport & { url: string; signInTried: boolean }
  redis: Omit<RedisFacts, 'defaultAdmin' | 'declaredAdmin'>
  certificate: { enabled: false } | ({ enabled: true } & CertificateInfo) | { enabled: true; error: string }
  mounts: MountEntry[]
  lastUpgrade?: LastUpgrade
}

function summary(p: ReturnType<typeof statePaths>, id: string | undefined): ReleaseSummary | undefined {
  if (!id) return undefined
  const m = readManifest(join(p.releases, id))
  if (!m) return { id, complete: false }
  return { id, version: m.version, rev: m.rev, node: m.node, builtAt: m.endedAt, complete: true }
}

export async function gatherStatus(
  spec: Spec,
  host: HostView,
  now = new Date(),
): Promise<Omit<StatusReport, 'ok' | 'problems'>> {
  const p = hostStatePaths(spec, host)
  const server = await observeServer(spec, host)
  const {
    defaultAdmin: _d,
    declaredAdmin: _a,
    ...redis
  } = await observeRedis(host.path(spec.redis.socket), spec.webAdmin.email)
  let health: StatusReport['health']
  if (server.running) {
    const ep = localEndpoint(hostSpec(spec, host))
    const password = readAdminPassword(spec, host)
    const r = await checkHealth(ep, password ? { email: spec.webAdmin.email, password } : undefined)
    health = { ...r, url: ep.url, signInTried: password !== undefined }
  }
  let certificate: StatusReport['certificate'] = { enabled: false }
  if (spec.xo.ssl.enable) {
    try {
      const info = await readCertificateInfo(host.path(spec.xo.ssl.cert), {
        ledgerFile: host.path(ledgerPath(spec)),
        now,
      })
      certificate = { enabled: true, ...info, path: spec.xo.ssl.cert }
    } catch (e) {
      const missing = (e as NodeJS.ErrnoException).code === 'ENOENT'
      certificate = {
        enabled: true,
        error: missing ? `no certificate at ${spec.xo.ssl.cert} (xoa cert)` : (e as Error).message,
      }
    }
  }
  let lastUpgrade: LastUpgrade | undefined
  const upgradeText = readText(host, join(statePaths(spec).logs, 'upgrade-last.json'))
  if (upgradeText !== undefined) {
    try {
      lastUpgrade = JSON.parse(upgradeText) as LastUpgrade
    } catch {
      lastUpgrade = { outcome: 'unreadable upgrade-last.json' }
    }
  }
  return {
    mode: server.mode,
    release: { current: summary(p, currentId(p)), previous: summary(p, previousId(p)) },
    server: {
      running: server.running,
      supervisor: server.unit ? 'systemd' : 'none',
      activeState: server.unit?.activeState,
      pid: server.pid,
      since: server.since,
      uptimeSeconds: server.since
        ? Math.max(0, Math.round((now.getTime() - Date.parse(server.since)) / 1000))
        : undefined,
    },
    health,
    redis,
    certificate,
    // Mounts are the live machine's: the mount namespace we run in.
    mounts: mountsUnder(readMountinfo(), spec.xo.mountsDir),
    lastUpgrade,
  }
}

/** Pure: what is wrong, in words a person acts on. */
export function statusProblems(s: Omit<StatusReport, 'ok' | 'problems'>): string[] {
  const out: string[] = []
  if (!s.release.current) out.push('no current release (xoa build)')
  else if (!s.release.current.complete)
    out.push(`current release ${s.release.current.id} is incomplete (xoa doctor)`)
  if (!s.server.running)
    out.push(`xo-server is not running${s.server.activeState ? ` (${s.server.activeState})` : ''}`)
  else if (s.health && !s.health.healthy) out.push(`xo-server is not healthy: ${s.health.reason}`)
  if (!s.redis.answers) out.push(`Redis does not answer on ${s.redis.socket}`)
  else if (s.redis.aof === false) out.push('Redis AOF is off: data is not persisted')
  if (s.certificate.enabled && 'error' in s.certificate) out.push(`certificate: ${s.certificate.error}`)
  else if (s.certificate.enabled && s.certificate.expired)
    out.push(`the certificate expired on ${s.certificate.notAfter.slice(0, 10)}`)
  // held-back: the scheduled upgrade keeps refusing a release that failed its health check; upgrades are stuck.
  if (s.lastUpgrade?.outcome && /fail|rolled|held|error|unreadable/i.test(s.lastUpgrade.outcome))
    out.push(
      `the last upgrade ${s.lastUpgrade.when ? `(${s.lastUpgrade.when}) ` : ''}ended: ${s.lastUpgrade.outcome}${s.lastUpgrade.reason ? ` — ${s.lastUpgrade.reason}` : ''}`,
    )
  return out
}

export async function status(spec: Spec, host: HostView, now = new Date()): Promise<StatusReport> {
  const s = await gatherStatus(spec, host, now)
  const problems = statusProblems(s)
  return { ok: problems.length === 0, problems, ...s }
}
