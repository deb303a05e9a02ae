// The environment xo-server (and its recover-account-cli) runs with: the same under systemd (rendered into
// the unit) and under `xoa up` (given to the child process).
import { dirname } from 'node:path'
import { statePaths } from './paths.ts'
import type { Spec } from './schema.ts'

// sbin too: xo-server offers SMB remotes only when `mount.cifs -V` runs, and Debian puts mount.cifs in /usr/sbin.
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

/** Without xo.extraServerEnv, which the unit keeps in a root-only EnvironmentFile. */
export function serverBaseEnvironment(spec: Spec): Record<string, string> {
  const p = statePaths(spec)
  return {
    // In broker mode the first `sudo` on PATH is xoa's shim (the mount broker's client), not the real sudo.
    PATH: spec.mounts.mode === 'broker' ? `${p.shimDir}:${SYSTEM_PATH}` : SYSTEM_PATH,
    HOME: dirname(p.serverConfigHome),
    // xo-server writes ~/.config/xo-server/config.z-auto.json when it lacks a session secret; keep it in state.
    XDG_CONFIG_HOME: p.serverConfigHome,
    TMPDIR: spec.xo.tempDir,
    NODE_ENV: 'production',
  }
}

export function serverEnvironment(spec: Spec): Record<string, string> {
  return { ...serverBaseEnvironment(spec), ...spec.xo.extraServerEnv }
}
