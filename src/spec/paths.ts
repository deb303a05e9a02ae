// Paths derived from the spec that several parts agree on. One place, so the builder, the units and
// the bootstrap never disagree about where a release or a secret lives.
import { join } from 'node:path'
import type { Spec } from './schema.ts'

export function statePaths(spec: Spec) {
  const s = spec.xo.stateDir
  // The release store is the state dir unless build.storeDir moves it (the container image: its release lives
  // in the image, the state in the volume).
  const store = spec.build.storeDir ?? s
  return {
    state: s,
    store,
    releases: join(store, 'releases'),
    current: join(store, 'current'),
    previous: join(store, 'previous'),
    /** Node of the current release: <current>/node is a symlink to the runtime it was built with. */
    currentNode: join(store, 'current', 'node', 'bin', 'node'),
    /** xo-server entry point of the current release. */
    currentServer: join(store, 'current', 'xo', 'packages', 'xo-server', 'dist', 'cli.mjs'),
    runtimes: join(store, 'runtimes'),
    cache: join(store, 'cache'),
    mirror: join(store, 'cache', 'xen-orchestra.git'),
    secrets: join(s, 'secrets'),
    /** Generated web admin password when webAdmin.passwordFile is not set. */
    adminPasswordFile: spec.webAdmin.passwordFile ?? join(s, 'secrets', 'admin-password'),
    /** XDG_CONFIG_HOME of xo-server, so nothing goes to a home directory. */
    serverConfigHome: join(s, 'home', '.config'),
    logs: join(s, 'logs'),
    /** Directory put first on xo-server's PATH; holds the `sudo` shim that talks to the mount broker. */
    shimDir: join(s, 'bin'),
    backups: join(s, 'backups'),
    /** What xoa made in XO and digests of what it sent (src/xo-state/record.ts); with the secrets, so it
     *  travels with backup and restore under the same root-only rules. */
    xoStateRecord: join(s, 'secrets', 'xo-state.json'),
    /** Stock units (Debian's redis-server.service) apply masked before installing their package. */
    maskedUnits: join(s, 'masked-units.json'),
    /** Root-only (0700) directory of the socket `xoa up` holds while it runs: see src/run/up-lock.ts. */
    upRun: join(s, 'run'),
  }
}
