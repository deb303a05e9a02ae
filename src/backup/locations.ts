// Which directories a backup covers, per section.
import { join } from 'node:path'
import { UsageError } from '../cli/errors.ts'
import { XO_CONFIG_DIR } from '../render/types.ts'
import { statePaths } from '../spec/paths.ts'
import { isInside, type Spec } from '../spec/schema.ts'

/**
 * Tests only: a prefix for the fixed host path /etc/xo-server (every other path comes from the spec and
 * can point into a temp dir). Unset in production.
 */
export const TEST_ROOT_ENV = 'XOA_TEST_ROOT'

export function xoConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  const root = env[TEST_ROOT_ENV]
  return root ? join(root, XO_CONFIG_DIR) : XO_CONFIG_DIR
}

/** The sections restore writes back, each a directory on the host. */
export function restoredDirs(spec: Spec, env: NodeJS.ProcessEnv = process.env) {
  return {
    config: xoConfigDir(env),
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
