// Users and groups as the target sees them: parsed from <root>/etc/{passwd,group,shadow}, so the same code
// resolves owners on the live host and inside a --root prefix (where `useradd --root` writes).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

export interface PasswdEntry {
  name: string
  uid: number
  gid: number
  comment: string
  home: string
  shell: string
}

export interface GroupEntry {
  name: string
  gid: number
  members: string[]
}

export interface Accounts {
  users: Map<string, PasswdEntry>
  groups: Map<string, GroupEntry>
  /** Password field of /etc/shadow by user; undefined when shadow is unreadable. */
  shadow?: Map<string, string>
}

const lines = (text: string) => text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'))

export function parsePasswd(text: string): PasswdEntry[] {
  return lines(text).map((l) => {
    const [name = '', , uid = '', gid = '', comment = '', home = '', shell = ''] = l.split(':')
    return { name, uid: Number(uid), gid: Number(gid), comment, home, shell }
  })
}

export function parseGroup(text: string): GroupEntry[] {
  return lines(text).map((l) => {
    const [name = '', , gid = '', members = ''] = l.split(':')
    return { name, gid: Number(gid), members: members === '' ? [] : members.split(',') }
  })
}

export function parseShadow(text: string): Map<string, string> {
  return new Map(
    lines(text).map((l) => {
      const [name = '', password = ''] = l.split(':')
      return [name, password]
    }),
  )
}

/** A password field that no password can match: locked ("!…"), or no password at all ("*"). */
export function isLocked(passwordField: string | undefined): boolean {
  return passwordField !== undefined && (passwordField.startsWith('!') || passwordField === '*')
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'EACCES') return undefined
    throw e
  }
}

export function readAccounts(root: string): Accounts {
  const passwd = readOptional(join(root, 'etc', 'passwd')) ?? ''
  const group = readOptional(join(root, 'etc', 'group')) ?? ''
  const shadow = readOptional(join(root, 'etc', 'shadow'))
  return {
    users: new Map(parsePasswd(passwd).map((u) => [u.name, u])),
    groups: new Map(parseGroup(group).map((g) => [g.name, g])),
    shadow: shadow === undefined ? undefined : parseShadow(shadow),
  }
}

/** Supplementary groups of a user (groups listing it as a member), sorted. */
export function supplementaryGroups(accounts: Accounts, user: string): string[] {
  return [...accounts.groups.values()]
    .filter((g) => g.members.includes(user))
    .map((g) => g.name)
    .sort()
}

export function userName(accounts: Accounts, uid: number): string {
  for (const u of accounts.users.values()) if (u.uid === uid) return u.name
  return String(uid)
}

export function groupName(accounts: Accounts, gid: number): string {
  for (const g of accounts.groups.values()) if (g.gid === gid) return g.name
  return String(gid)
}

export function uidOf(accounts: Accounts, name: string): number | undefined {
  return accounts.users.get(name)?.uid
}

export function gidOf(accounts: Accounts, name: string): number | undefined {
  return accounts.groups.get(name)?.gid
}
