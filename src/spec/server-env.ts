// The environment xo-server (and its recover-account-cli) runs with: the same under systemd (rendered into
// the unit) and under `xoa up` (given to the child process).
import { dirname } from 'node:path'
import { currentPlatform } from '../platform/load.ts'
import { type Platform, servicePath } from '../platform/platform.ts'
import { statePaths } from './paths.ts'
import type { Spec } from './schema.ts'
import { plainEnv } from './secret-refs.ts'

/** Without xo.extraServerEnv, which the unit keeps in a root-only EnvironmentFile. */
export function serverBaseEnvironment(spec: Spec, platform: Platform): Record<string, string> {
  const p = statePaths(spec)
  // The tools' own directories (sbin too: xo-server offers SMB remotes only when `mount.cifs -V` runs), the
  // same PATH the sudo-mode rules give sudo as secure_path.
  const system = servicePath(platform).join(':')
  return {
    // In broker mode the first `sudo` on PATH is xoa's shim (the mount broker's client), not the real sudo.
    PATH: spec.mounts.mode === 'broker' ? `${p.shimDir}:${system}` : system,
    HOME: dirname(p.serverConfigHome),
    // xo-server writes ~/.config/xo-server/config.z-auto.json when it lacks a session secret; keep it in state.
    XDG_CONFIG_HOME: p.serverConfigHome,
    TMPDIR: spec.xo.tempDir,
    NODE_ENV: 'production',
  }
}

/** With xo.extraServerEnv: its plain strings, and the `{ file }` values root resolved at run time (`fromFiles`). */
export function serverEnvironment(
  spec: Spec,
  fromFiles: Record<string, string> = {},
  platform: Platform = currentPlatform(),
): Record<string, string> {
  return { ...serverBaseEnvironment(spec, platform), ...plainEnv(spec.xo.extraServerEnv), ...fromFiles }
}
