// The line that makes a unit's xoa run on the platform it was rendered for (docs/platform.md): nothing for the
// default (Debian), else Environment=XOA_PLATFORM=<built-in name or file>.
import { PLATFORM_ENV, platformRef } from '../platform/load.ts'
import { envAssignment, type UnitLine } from './systemd.ts'
import type { RenderEnv } from './types.ts'

export function platformAssignment(env: RenderEnv): string | undefined {
  const ref = platformRef(env.platform)
  return ref === undefined ? undefined : envAssignment(PLATFORM_ENV, ref)
}

export function platformLines(env: RenderEnv): UnitLine[] {
  const a = platformAssignment(env)
  return a === undefined ? [] : [['Environment', a]]
}
