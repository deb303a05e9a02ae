// Where apply works: the live host ("/"), or a prefix given with --root (how tests and image builds run it).
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'

export interface Host {
  /** "/" for the live host, else the absolute prefix every path is written under. */
  root: string
  live: boolean
  /** systemd is PID 1 here: units can be reloaded, started and restarted. */
  systemd: boolean
  /** dpkg/apt manage packages here. */
  dpkg: boolean
}

export function detectHost(root = '/'): Host {
  const r = resolve(root)
  const live = r === '/'
  return {
    root: r,
    live,
    systemd: live && existsSync('/run/systemd/system'),
    dpkg: live && existsSync('/usr/bin/dpkg-query') && existsSync('/usr/bin/apt-get'),
  }
}

/** A target path as seen from here. */
export function onHost(host: Host, path: string): string {
  return host.live ? path : join(host.root, path)
}
