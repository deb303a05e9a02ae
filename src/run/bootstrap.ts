// What must hold before xo-server first listens: the certificate, the secrets (generated here and nowhere else,
// src/run/secrets.ts), and the declared web admin in Redis. Run by xo-bootstrap.service (after redis-xo, before
// xo-server) on systemd hosts and NixOS, and by `xoa up`.
import { existsSync, realpathSync } from 'node:fs'
import { NIXOS_MARKER, type RunMode } from '../host/layout.ts'
import { statePaths } from '../spec/paths.ts'
import type { Spec } from '../spec/schema.ts'
import { serverEnvironment } from '../spec/server-env.ts'
import { type CertReport, ensureCertificate } from '../tls/ensure.ts'
import { lookupAccount } from '../util/accounts.ts'
import { XoaError } from '../util/errors.ts'
import { type AdminOutcome, ensureWebAdmin } from './admin.ts'
import { pingRedis } from './redis.ts'
import { ensureSecrets, type RunTimeSecrets, type SecretOutcome } from './secrets.ts'

export interface BootstrapReport {
  certificate: CertReport
  secrets: SecretOutcome[]
  admin: AdminOutcome
  release: string
}

export interface BootstrapOptions {
  release?: string
  /** Where the secrets go (src/host/layout.ts); the unit's bootstrap runs as 'systemd' or, on NixOS, 'nixos'. */
  mode?: RunMode
}

export async function bootstrap(spec: Spec, opts: BootstrapOptions = {}): Promise<BootstrapReport> {
  return (await bootstrapWithSecrets(spec, opts)).report
}

/** The unit's mode on this machine: NixOS runs the same rendered xo-bootstrap.service. */
export function unitMode(): RunMode {
  return existsSync(NIXOS_MARKER) ? 'nixos' : 'systemd'
}

/** bootstrap, also handing back the secrets it holds (for `xoa up`; never part of the printed report). */
export async function bootstrapWithSecrets(
  spec: Spec,
  opts: BootstrapOptions = {},
): Promise<{ report: BootstrapReport; secrets: RunTimeSecrets }> {
  const release = opts.release ?? currentRelease(spec)
  // First: a bad secret file stops here, naming its field, before the certificate or Redis is touched.
  const secrets = await ensureSecrets(spec, opts.mode ?? unitMode())
  const certificate = await ensureCertificate(spec)
  if (certificate.outcome === 'error' || certificate.outcome === 'missing')
    throw new XoaError(
      `certificate: ${certificate.error?.message ?? certificate.reason ?? certificate.outcome}`,
      {
        hint: certificate.error?.hint ?? 'xoa cert',
      },
    )
  if (!(await pingRedis(spec.redis.socket)))
    throw new XoaError(`Redis does not answer on ${spec.redis.socket}`, {
      hint: 'systemctl status redis-xo (or check redis.socket in the spec)',
    })
  const owner = await runAsServiceAccount(spec)
  const env = serverEnvironment(spec, secrets.serverEnv)
  const admin = await ensureWebAdmin(spec, { release, env, ...owner }, secrets.adminPassword)
  return { report: { certificate, secrets: secrets.outcomes, admin, release }, secrets }
}

export function currentRelease(spec: Spec): string {
  const { current } = statePaths(spec)
  if (!existsSync(current)) throw new XoaError('no release is built yet', { hint: 'xoa build' })
  return realpathSync(current)
}

/** When root, run XO's tools as the service account (as the unit does); otherwise as ourselves. */
export async function runAsServiceAccount(spec: Spec): Promise<{ uid?: number; gid?: number }> {
  if (process.getuid?.() !== 0) return {}
  const o = await lookupAccount(spec.service.user, spec.service.group)
  return { uid: o.uid, gid: o.gid }
}
