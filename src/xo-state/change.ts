// What an XO-state plan is made of: the objects XO reports, and one change per object with its action.
import type { XoAcl, XoGroup, XoPlugin, XoRemote, XoServer, XoUser } from './api.ts'

export type XoKind = 'plugin' | 'server' | 'remote' | 'user' | 'group' | 'acl'
export type XoAction = 'create' | 'change' | 'delete' | 'ok' | 'skip'
export const XO_SYMBOL: Record<XoAction, string> = {
  create: '+',
  change: '~',
  delete: '-',
  ok: '=',
  skip: '!',
}

export interface Observed {
  plugins: XoPlugin[]
  servers: XoServer[]
  remotes: XoRemote[]
  users: XoUser[]
  groups: XoGroup[]
  acls: XoAcl[]
}

export interface XoChange {
  /** "kind:name", the key of the ownership record too. */
  id: string
  kind: XoKind
  name: string
  action: XoAction
  details: string[]
  /** What the executor does, beyond the action (src/xo-state/apply.ts). */
  plan?: {
    configure?: boolean
    load?: boolean
    autoload?: boolean
    /** Server/remote/user fields to send (names only; values come from the spec at run time). */
    fields?: string[]
    enabled?: boolean
    addMembers?: string[]
    removeMembers?: string[]
    /** The XO object the change acts on (change/delete). */
    xoId?: string
    acl?: XoAcl
  }
}

export interface XoDiff {
  changes: XoChange[]
  /** Record entries to drop: objects gone from XO, or adopted ones that left the spec. */
  forget: string[]
}

export function summarizeXo(changes: XoChange[]): Record<XoAction, number> {
  const s: Record<XoAction, number> = { create: 0, change: 0, delete: 0, ok: 0, skip: 0 }
  for (const c of changes) s[c.action]++
  return s
}
