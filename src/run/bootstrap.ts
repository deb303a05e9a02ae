// What must hold before xo-server first listens: the certificate, and the declared web admin in Redis.
// Run by xo-bootstrap.service (after redis-xo, before xo-server) and by `xoa up`.
import { existsSync, realpathSync } from 'node:fs'
import { statePaths } from '../spec/paths.ts'
import type { Spec } from '../spec/schema.ts'
import { serverEnvironment } from '../spec/server-env.ts'
import { type CertReport, ensureCertificate } from '../tls/ensure.ts'
import { lookupAccount } from '../util/accounts.ts'
import { XoaError } from '../util/errors.ts'
import { type AdminOutcome, ensureWebAdmin } from './admin.ts'
import { pingRedis } from './redis.ts'

export interface BootstrapReport {
  certificate: CertReport
  admin: AdminOutcome
  release: string
}

export async function bootstrap(spec: Spec, opts: { release?: string } = {}): Promise<BootstrapReport> {
  const release = opts.release ?? currentRelease(spec)
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
  const admin = await ensureWebAdmin(spec, { release, env: serverEnvironment(spec), ...owner })
  return { certificate, admin, release }
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
