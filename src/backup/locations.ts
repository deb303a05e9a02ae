// Which directories a backup covers, per section.
import { join } from 'node:path'
import { XO_CONFIG_DIR } from '../render/types.ts'
import { statePaths } from '../spec/paths.ts'
import type { Spec } from '../spec/schema.ts'

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
