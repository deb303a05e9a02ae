// Reading the host's current state for each resource. Only reads: nothing here changes the host.
import { execa } from 'execa'
import { errno } from '../fs/names.ts'
import type { SafeDir } from '../fs/safe-dir.ts'
import { tool } from '../platform/tool.ts'
import { XoaError } from '../util/errors.ts'
import {
  type Accounts,
  groupName,
  isLocked,
  readAccounts,
  supplementaryGroups,
  userName,
} from './accounts.ts'
import type { Host } from './host.ts'
import type { Resource } from './resources.ts'
import { openTarget, parentIn } from './target-fs.ts'

export interface PathState {
  type: 'dir' | 'file' | 'symlink' | 'other'
  mode: number
  owner: string
  group: string
  /** File content, for files only. */
  content?: string
  /** Symlink target. */
  target?: string
}

export interface UserState {
  uid: number
  home: string
  shell: string
  group: string
  groups: string[]
  /** undefined when /etc/shadow cannot be read (plan as non-root). */
  locked?: boolean
}

export type Observed =
  | { kind: 'group'; exists: boolean; gid?: number }
  | { kind: 'user'; state?: UserState }
  | { kind: 'path'; state?: PathState }
  | { kind: 'package'; installed?: boolean; skip?: string }
  | { kind: 'unit'; enabled?: boolean; active?: boolean; skip?: string }

/** What is at `path` on the target, reached through the safe layer: a symlinked parent is refused, not read. */
export async function observePath(
  root: SafeDir,
  path: string,
  accounts: Accounts,
  withContent: boolean,
): Promise<PathState | undefined> {
  const where = root.path === '/' ? path : `${root.path}${path}`
  try {
    const entry = await parentIn(root, path)
    if (!entry) return undefined
    const { dir, name } = entry
    try {
      const st = await dir.lstat(name)
      if (!st) return undefined
      const type = st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : 'other'
      return {
        type,
        mode: st.mode & 0o7777,
        owner: userName(accounts, st.uid),
        group: groupName(accounts, st.gid),
        content: type === 'file' && withContent ? (await dir.readFile(name))?.toString('utf8') : undefined,
        target: type === 'symlink' ? await dir.readlink(name) : undefined,
      }
    } finally {
      await dir.close()
    }
  } catch (e) {
    if (errno(e) === 'EACCES')
      throw new XoaError(`cannot inspect ${where}: permission denied`, {
        hint: 'run it as root: sudo xoa plan',
      })
    throw e
  }
}

function observeUser(accounts: Accounts, name: string): UserState | undefined {
  const u = accounts.users.get(name)
  if (!u) return undefined
  return {
    uid: u.uid,
    home: u.home,
    shell: u.shell,
    group: groupName(accounts, u.gid),
    groups: supplementaryGroups(accounts, name),
    locked: accounts.shadow ? isLocked(accounts.shadow.get(name)) : undefined,
  }
}

const PACKAGES_ONLY_LIVE = 'skipped: packages are installed on the live host only, not under --root'

async function observePackages(names: string[]): Promise<Map<string, boolean>> {
  if (names.length === 0) return new Map()
  // One call for all: exit 1 when some package is unknown, but stdout still lists the known ones.
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax, not a template
  const r = await execa(tool('dpkg-query'), ['-W', '-f=${Package} ${db:Status-Abbrev}\\n', ...names], {
    reject: false,
  })
  const installed = new Set(
    r.stdout
      .split('\n')
      .filter((l) => /^\S+ ii/.test(l))
      .map((l) => l.split(' ')[0]?.replace(/:.*$/, '')),
  )
  return new Map(names.map((n) => [n, installed.has(n)]))
}

async function observeUnit(host: Host, name: string): Promise<Observed> {
  if (!host.live) {
    // systemctl --root reads and writes the enablement symlinks under the prefix without a running systemd.
    const r = await execa(tool('systemctl'), [`--root=${host.root}`, 'is-enabled', name], { reject: false })
    return { kind: 'unit', enabled: r.stdout.trim() === 'enabled' }
  }
  if (!host.systemd) return { kind: 'unit', skip: 'skipped: systemd is not running here (use `xoa up`)' }
  const en = await execa(tool('systemctl'), ['is-enabled', name], { reject: false })
  const ac = await execa(tool('systemctl'), ['is-active', name], { reject: false })
  return { kind: 'unit', enabled: en.stdout.trim() === 'enabled', active: ac.stdout.trim() === 'active' }
}

export async function observe(host: Host, resources: Resource[]): Promise<Observed[]> {
  const root = await openTarget(host)
  try {
    return await observeAll(host, root, resources)
  } finally {
    await root.close()
  }
}

async function observeAll(host: Host, root: SafeDir, resources: Resource[]): Promise<Observed[]> {
  const accounts = readAccounts(host.root)
  const pkgNames = resources.flatMap((r) => (r.kind === 'package' ? [r.name] : []))
  const packages = host.dpkg ? await observePackages(pkgNames) : new Map<string, boolean>()
  const out: Observed[] = []
  for (const r of resources) {
    switch (r.kind) {
      case 'group':
        out.push({
          kind: 'group',
          exists: accounts.groups.has(r.name),
          gid: accounts.groups.get(r.name)?.gid,
        })
        break
      case 'user':
        out.push({ kind: 'user', state: observeUser(accounts, r.name) })
        break
      case 'dir':
      case 'symlink':
        out.push({ kind: 'path', state: await observePath(root, r.path, accounts, false) })
        break
      case 'secret':
      case 'seed':
        // Never read a secret's content: it is neither compared nor shown.
        out.push({ kind: 'path', state: await observePath(root, r.path, accounts, false) })
        break
      case 'file':
        out.push({ kind: 'path', state: await observePath(root, r.file.path, accounts, true) })
        break
      case 'package':
        out.push(
          host.dpkg
            ? { kind: 'package', installed: packages.get(r.name) }
            : {
                kind: 'package',
                skip: host.live
                  ? 'skipped: no dpkg/apt-get on this host; install it yourself'
                  : PACKAGES_ONLY_LIVE,
              },
        )
        break
      case 'unit':
        out.push(await observeUnit(host, r.name))
        break
    }
  }
  return out
}
