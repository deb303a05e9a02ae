// Which directories a backup covers, per section, asked of the one place that knows where xo-server's
// config lives for the way this host runs it (src/status/paths.ts).
import { join } from 'node:path'
import { statePaths } from '../spec/paths.ts'
import { isInside, type Spec } from '../spec/schema.ts'
import { hostMode, type Mode, serverConfigDir } from '../status/paths.ts'
import { lookupAccount } from '../util/accounts.ts'
import { UsageError, XoaError } from '../util/errors.ts'
import type { Owners } from './rules.ts'

/**
 * Tests only: a prefix for the fixed host paths (/etc/xo-server, and the xo-server unit that tells a
 * systemd host from `xoa up`); every other path comes from the spec and can point into a temp dir.
 */
export const TEST_ROOT_ENV = 'XOA_TEST_ROOT'

function fixedPath(env: NodeJS.ProcessEnv) {
  const root = env[TEST_ROOT_ENV]
  return (p: string) => (root ? join(root, p) : p)
}

export function runMode(env: NodeJS.ProcessEnv = process.env): Mode {
  return hostMode(fixedPath(env))
}

/** The sections restore writes back, each a directory on the host, for this host's way of running. */
export function restoredDirs(spec: Spec, mode: Mode = runMode(), env: NodeJS.ProcessEnv = process.env) {
  return {
    config: mode === 'systemd' ? fixedPath(env)(serverConfigDir(spec, mode)) : serverConfigDir(spec, mode),
    secrets: statePaths(spec).secrets,
    data: spec.xo.dataDir,
  } as const
}

/** Backups inside the data dir would be swallowed by the next backup and deleted by a restore. */
export function assertBackupsOutsideData(spec: Spec, backupsDir: string): void {
  if (isInside(backupsDir, spec.xo.dataDir))
    throw new UsageError(
      `the backups directory ${backupsDir} is inside xo.dataDir (${spec.xo.dataDir})`,
      'move xo.stateDir out of xo.dataDir in the spec, or pass --out FILE outside it',
    )
}

/** Whose files are whose: the spec's service account and root when we are root, ourselves otherwise. */
export async function owners(spec: Spec): Promise<Owners> {
  const uid = process.getuid?.() ?? 0
  const self = { uid, gid: process.getgid?.() ?? 0 }
  if (uid !== 0) return { service: self, admin: self }
  const service = await lookupAccount(spec.service.user, spec.service.group).catch((e: Error) => {
    throw new XoaError(`${e.message}: backup and restore give the data dir to the service account`, {
      hint: 'xoa apply creates it (or set service.user/service.group in the spec)',
    })
  })
  return { service, admin: { uid: 0, gid: 0 } }
}
