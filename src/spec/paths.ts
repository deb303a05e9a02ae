// Paths derived from the spec that several parts agree on. One place, so the builder, the units and
// the bootstrap never disagree about where a release or a secret lives.
import { join } from 'node:path'
import type { Spec } from './schema.ts'

export function statePaths(spec: Spec) {
  const s = spec.xo.stateDir
  return {
    state: s,
    releases: join(s, 'releases'),
    current: join(s, 'current'),
    previous: join(s, 'previous'),
    /** Node of the current release: <current>/node is a symlink to the runtime it was built with. */
    currentNode: join(s, 'current', 'node', 'bin', 'node'),
    /** xo-server entry point of the current release. */
    currentServer: join(s, 'current', 'xo', 'packages', 'xo-server', 'dist', 'cli.mjs'),
    runtimes: join(s, 'runtimes'),
    cache: join(s, 'cache'),
    mirror: join(s, 'cache', 'xen-orchestra.git'),
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
