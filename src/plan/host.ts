// Where apply works: the live host ("/"), or a prefix given with --root (how tests and image builds run it).
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { currentPlatform } from '../platform/load.ts'
import type { Platform } from '../platform/platform.ts'

export interface Host {
  /** "/" for the live host, else the absolute prefix every path is written under. */
  root: string
  live: boolean
  /** systemd is PID 1 here: units can be reloaded, started and restarted. */
  systemd: boolean
  /** dpkg/apt manage packages here. */
  dpkg: boolean
}

export function detectHost(root = '/', p: Platform = currentPlatform()): Host {
  const r = resolve(root)
  const live = r === '/'
  return {
    root: r,
    live,
    systemd: live && existsSync('/run/systemd/system'),
    // A platform without dpkg (NixOS names neither tool) has no packages for apply to install.
    dpkg: live && [p.tools['dpkg-query'], p.tools['apt-get']].every((t) => t !== undefined && existsSync(t)),
  }
}

/** A target path as seen from here. */
export function onHost(host: Host, path: string): string {
  return host.live ? path : join(host.root, path)
}
