// Copying directory trees into a backup's staging dir (with checksums in the manifest) and back onto the host,
// all through directory descriptors (src/fs/fd-sync.ts): what is copied is what was opened and checked, never what a
// path pointed to a moment before; what is written goes to a temp name in the very directory checked, gets
// its owner and mode from rules.ts through its descriptor, and is renamed over its name.
import { createHash } from 'node:crypto'
import { closeSync, constants, fstatSync, mkdirSync, openSync, readSync } from 'node:fs'
import { dirname, join } from 'node:path'
import {
  copyFd,
  ensureDirAt,
  entriesAt,
  lstatAt,
  type Meta,
  openDirAt,
  openDirPath,
  openFileAt,
  removeAt,
  setMeta,
  writeFileAt,
} from '../fs/fd-sync.ts'
import { archivePathOf, type Entry, type Section, type SectionRoot } from './format.ts'
import type { SectionRules } from './rules.ts'

/** Names restore once used inside a data dir while swapping it; never part of a backup. */
export const SWAP_PREFIXES = ['.xoa-restore-', '.xoa-old-']

/** Hash a file in 1 MiB reads (a 2 GiB file must not have to fit in one Buffer). */
export function sha256File(path: string): string {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW)
  try {
    const hash = createHash('sha256')
    const buf = Buffer.allocUnsafe(1 << 20)
    for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) hash.update(buf.subarray(0, n))
    return hash.digest('hex')
  } finally {
    closeSync(fd)
  }
}

/** Copy the open file `from` into a new 0600 file at `dest` (staging is root's and private). */
function stageCopy(from: number, dest: string): { size: number; sha256: string } {
  mkdirSync(dirname(dest), { recursive: true, mode: 0o700 })
  const to = openSync(dest, 'wx', 0o600)
  try {
    const hash = createHash('sha256')
    const size = copyFd(from, to, (b) => hash.update(b))
    return { size, sha256: hash.digest('hex') }
  } finally {
    closeSync(to)
  }
}

export interface Collected {
  root: SectionRoot
  entries: Entry[]
  skipped: string[]
}

export interface CollectRules {
  /** Names at the section's top level that are never archived (the backup key in the secrets). */
  exclude?: string[]
  /** Files must belong to this uid (the data dir: anything else is not xo-server's own file). */
  ownerUid?: number
}

/**
 * Copy the tree at `dir` into `staging/files/<section>/`, recording files and directories. Symlinks, special
 * files and whatever changed type between listing and opening are skipped (and listed as such): restore
 * creates nothing but plain files and directories.
 */
export function collectTree(
  section: Section,
  dir: string,
  staging: string,
  rules: CollectRules = {},
): Collected {
  let top: number
  try {
    top = openDirPath(dir)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    return {
      root: { dir, present: false },
      entries: [],
      skipped: code === 'ENOENT' ? [] : [`${dir} (${code ?? (e as Error).message})`],
    }
  }
  const entries: Entry[] = []
  const skipped: string[] = []
  const walk = (fd: number, rel: string) => {
    for (const name of entriesAt(fd)) {
      if (!rel && (SWAP_PREFIXES.some((p) => name.startsWith(p)) || rules.exclude?.includes(name))) continue
      const r = rel ? `${rel}/${name}` : name
      const shown = join(dir, r)
      // A control character would break tar's listing, which restore reads: such a name (xo-server makes
      // none) must not make the whole archive unrestorable.
      if (/[\x00-\x1f\x7f]/.test(name)) {
        skipped.push(`${JSON.stringify(shown)} (control character in its name)`)
        continue
      }
      if (lstatAt(fd, name)?.isDirectory()) {
        let sub: number
        try {
          sub = openDirAt(fd, name)
        } catch (e) {
          skipped.push(`${shown} (${(e as NodeJS.ErrnoException).code ?? 'changed while read'})`)
          continue
        }
        try {
          entries.push({ type: 'dir', section, path: r })
          walk(sub, r)
        } finally {
          closeSync(sub)
        }
        continue
      }
      const o = openFileAt(fd, name)
      if (o.kind === 'other') {
        if (o.what !== 'gone') skipped.push(`${shown} (${o.what})`)
        continue
      }
      try {
        if (rules.ownerUid !== undefined && o.st.uid !== rules.ownerUid) {
          skipped.push(`${shown} (owned by uid ${o.st.uid}, not the service account)`)
          continue
        }
        const copied = stageCopy(o.fd, join(staging, archivePathOf({ section, path: r })))
        entries.push({ type: 'file', section, path: r, ...copied })
      } finally {
        closeSync(o.fd)
      }
    }
  }
  try {
    walk(top, '')
  } finally {
    closeSync(top)
  }
  return { root: { dir, present: true }, entries, skipped }
}

/** Stage one file under files/<section>/<name> (for the pin, which is kept but never restored). */
export function collectFile(section: Section, src: string, name: string, staging: string): Entry | undefined {
  let dirFd: number
  try {
    dirFd = openDirPath(dirname(src))
  } catch {
    return undefined
  }
  try {
    const o = openFileAt(dirFd, src.slice(dirname(src).length + 1))
    if (o.kind === 'other') return undefined
    try {
      return {
        type: 'file',
        section,
        path: name,
        ...stageCopy(o.fd, join(staging, archivePathOf({ section, path: name }))),
      }
    } finally {
      closeSync(o.fd)
    }
  } finally {
    closeSync(dirFd)
  }
}

/** Open (creating when missing) the section's root directory with the rules' owner and mode. */
export function openSectionRoot(dir: string, meta: Meta): number {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const fd = openDirPath(dir)
  setMeta(fd, meta)
  return fd
}

/** Put each entry under the directory open as `rootFd`; files the backup lacks are left alone. */
export function placeEntries(
  rootFd: number,
  entries: Entry[],
  stagedTree: string,
  rules: SectionRules,
): void {
  for (const e of entries) {
    const parts = e.path.split('/')
    const name = parts.pop()!
    const opened: number[] = []
    try {
      let fd = rootFd
      for (const p of parts) {
        fd = ensureDirAt(fd, p, rules.dir)
        opened.push(fd)
      }
      if (e.type === 'dir') closeSync(ensureDirAt(fd, name, rules.dir))
      else {
        const src = openSync(join(stagedTree, archivePathOf(e)), constants.O_RDONLY | constants.O_NOFOLLOW)
        try {
          if (!fstatSync(src).isFile()) throw new Error(`${archivePathOf(e)} is not a file`)
          writeFileAt(fd, name, rules.file(name), (to) => copyFd(src, to))
        } finally {
          closeSync(src)
        }
      }
    } finally {
      for (const fd of opened) closeSync(fd)
    }
  }
}

/**
 * Replace the whole content of the data dir (LevelDB must not mix files of two points in time): remove what
 * is there, then write the backup's tree, through descriptors. The new tree comes from restore's private
 * staging, never from a place the service account can write.
 */
export function replaceContent(
  rootFd: number,
  entries: Entry[],
  stagedTree: string,
  rules: SectionRules,
): void {
  for (const name of entriesAt(rootFd)) removeAt(rootFd, name)
  placeEntries(rootFd, entries, stagedTree, rules)
}
