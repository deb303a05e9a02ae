// Owner and mode of everything restore writes, from xoa's own rules for each location (the same as apply
// and `xoa up` give them) — never from the archive. Pure.

import type { Meta } from '../fs/fd-sync.ts'
import type { RunMode } from '../host/layout.ts'
import type { Account } from '../util/accounts.ts'
import type { RestoredSection } from './format.ts'

export interface Owners {
  /** The service account (uid, gid of spec.service.user/group), or ourselves when not root. */
  service: Account
  /** root, or ourselves when not root. */
  admin: Account
}

export interface SectionRules {
  /** The section's root directory. */
  root: Meta
  dir: Meta
  file(name: string): Meta
}

/**
 * config: root-owned and group-readable under systemd (apply's /etc/xo-server), the service's own and private
 * under `xoa up` (prepareForeground); secrets: root only; data: the service's (xo-server writes it).
 * No setuid, setgid or sticky bit, ever.
 */
export function sectionRules(section: RestoredSection, mode: RunMode, o: Owners): SectionRules {
  const m = (a: Account, bits: number): Meta => ({ uid: a.uid, gid: a.gid, mode: bits })
  const svcGroup = { uid: o.admin.uid, gid: o.service.gid }
  switch (section) {
    case 'config':
      // systemd and NixOS keep xo-server's config under /etc/xo-server, root's; `xoa up` under the state dir.
      if (mode !== 'foreground')
        return { root: m(svcGroup, 0o750), dir: m(svcGroup, 0o750), file: () => m(svcGroup, 0o640) }
      return {
        root: m(o.service, 0o700),
        dir: m(o.service, 0o700),
        file: (name) => m(o.service, name === 'config.toml' ? 0o640 : 0o600),
      }
    case 'secrets':
      return { root: m(o.admin, 0o700), dir: m(o.admin, 0o700), file: () => m(o.admin, 0o600) }
    case 'data':
      return { root: m(o.service, 0o750), dir: m(o.service, 0o750), file: () => m(o.service, 0o640) }
  }
}
