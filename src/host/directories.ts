// The directories a host running xoa has, with their owners and modes: the one description `xoa apply` creates
// (src/plan/desired.ts) and the tmpfiles.d artefact (src/render/tmpfiles.ts) states for systemd-tmpfiles, which
// is how the NixOS module gets the same directories. Accounts' home directories are not here: the account
// executors own them (useradd on Debian, users.users on NixOS).
import { dirname } from 'node:path'
import { REDIS_ACCOUNT } from '../render/redis.ts'
import { XO_CONFIG_DIR } from '../render/types.ts'
import { statePaths } from '../spec/paths.ts'
import type { Spec } from '../spec/schema.ts'

export const XOA_CONFIG_DIR = '/etc/xoa'

export interface HostDir {
  path: string
  owner: string
  group: string
  mode: number
}

/** Parents before children (sorted by path); the first declaration of a path wins. */
export function hostDirectories(spec: Spec): HostDir[] {
  const p = statePaths(spec)
  const svc = spec.service.user
  const grp = spec.service.group
  const d = (path: string, owner: string, group: string, mode: number): HostDir => ({
    path,
    owner,
    group,
    mode,
  })
  const list: HostDir[] = [
    // Root-owned where xo-server only reads (releases, runtimes, the sudo shim): the service account must
    // never be able to change code that root runs.
    d(p.state, 'root', grp, 0o750),
    // build.storeDir, when it moves the release store out of the state dir.
    ...(p.store !== p.state ? [d(p.store, 'root', grp, 0o750)] : []),
    d(p.releases, 'root', grp, 0o750),
    d(p.runtimes, 'root', grp, 0o750),
    d(p.shimDir, 'root', grp, 0o750),
    d(p.logs, 'root', grp, 0o750),
    // The service group passes through to the build caches (yarn, turbo), which the unprivileged build writes.
    d(p.cache, 'root', grp, 0o750),
    d(p.secrets, 'root', 'root', 0o700),
    d(p.backups, 'root', 'root', 0o700),
    d(dirname(p.serverConfigHome), svc, grp, 0o750),
    d(p.serverConfigHome, svc, grp, 0o750),
    d(spec.xo.dataDir, svc, grp, 0o750),
    d(spec.xo.tempDir, svc, grp, 0o750),
    // Sticky, root's, writable by the group: xo-server makes <id> in it, the broker renames a root-owned
    // directory over it before mounting, which the service can then neither rename nor remove (docs/mounts.md).
    d(spec.xo.mountsDir, 'root', grp, 0o1770),
    d(XO_CONFIG_DIR, 'root', grp, 0o750),
    d(XOA_CONFIG_DIR, 'root', 'root', 0o755),
    // Same mode as StateDirectoryMode= in redis-xo.service, or systemd and apply would fight over it.
    d(spec.redis.dir, REDIS_ACCOUNT, REDIS_ACCOUNT, 0o700),
  ]
  if (spec.xo.ssl.enable) list.push(d(spec.xo.ssl.dir, 'root', grp, 0o750))
  const seen = new Set<string>()
  return list
    .filter((x) => !seen.has(x.path) && seen.add(x.path))
    .sort((a, b) => a.path.localeCompare(b.path))
}
