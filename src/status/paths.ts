// Where things are on a host, depending on how it runs xo-server: `xoa apply` (systemd) writes the config under
// /etc/xo-server; `xoa up` keeps it under the state dir so a container needs one volume.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { XO_CONFIG_DIR } from '../render/types.ts'
import { XO_SERVER_CONFIG, XO_SERVER_SECRETS } from '../render/xo-server-config.ts'
import { statePaths } from '../spec/paths.ts'
import type { Spec } from '../spec/schema.ts'
import type { HostView } from './host.ts'
import { SERVER_UNIT_FILE } from './server.ts'

export type Mode = 'systemd' | 'foreground'

/** systemd when `xoa apply` installed the xo-server unit, else foreground (`xoa up`). `at` maps a host path. */
export function hostMode(at: (path: string) => string = (p) => p): Mode {
  return existsSync(at(SERVER_UNIT_FILE)) ? 'systemd' : 'foreground'
}

/** The directory xo-server reads its config.toml and session secret from, in `mode`. */
export function serverConfigDir(spec: Spec, mode: Mode): string {
  return mode === 'systemd' ? XO_CONFIG_DIR : join(statePaths(spec).serverConfigHome, 'xo-server')
}

export function serverConfigFiles(spec: Spec, mode: Mode): { config: string; secrets: string } {
  if (mode === 'systemd') return { config: XO_SERVER_CONFIG, secrets: XO_SERVER_SECRETS }
  const dir = serverConfigDir(spec, mode)
  return { config: join(dir, 'config.toml'), secrets: join(dir, 'config.z-secrets.toml') }
}

/** statePaths with every path seen through the host's root prefix (for the release store readers). */
export function hostStatePaths(spec: Spec, host: HostView): ReturnType<typeof statePaths> {
  const p = statePaths(spec)
  return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, host.path(v)])) as typeof p
}

/** The spec with the files xo-server and the health check read seen through the root prefix. */
export function hostSpec(spec: Spec, host: HostView): Spec {
  if (host.live) return spec
  const ssl = { ...spec.xo.ssl, key: host.path(spec.xo.ssl.key), cert: host.path(spec.xo.ssl.cert) }
  return { ...spec, xo: { ...spec.xo, ssl } }
}
