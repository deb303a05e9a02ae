// The environment xo-server (and its recover-account-cli) runs with, under systemd and under `xoa up` alike.
import { join } from 'node:path'
import { statePaths } from '../spec/paths.ts'
import type { Spec } from '../spec/schema.ts'

export function serverEnvironment(spec: Spec): Record<string, string> {
  const p = statePaths(spec)
  // In broker mode the first `sudo` on PATH is xoa's shim (the mount broker's client), not the real sudo.
  const shim = spec.mounts.mode === 'broker' ? `${p.shimDir}:` : ''
  return {
    PATH: `${shim}/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    HOME: join(spec.xo.stateDir, 'home'),
    // xo-server writes ~/.config/xo-server/config.z-auto.json when it lacks a session secret; keep it in state.
    XDG_CONFIG_HOME: p.serverConfigHome,
    TMPDIR: spec.xo.tempDir,
    NODE_ENV: 'production',
    ...spec.xo.extraServerEnv,
  }
}
