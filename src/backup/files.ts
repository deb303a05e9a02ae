// Copying directory trees into a backup's staging dir (with checksums and original modes/owners in the
// manifest) and back onto the host: each file written to a temp name beside its target, given its owner and
// mode, then renamed, so no target is ever half-written or briefly more readable than it was.
import { createHash, randomBytes } from 'node:crypto'
import {
  chmodSync,
  chownSync,
  closeSync,
  fchmodSync,
  fchownSync,
  fsyncSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  readSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeSync,
} from 'node:fs'
import { dirname, join } from 'node:path'
import { archivePathOf, type Entry, type Section, type SectionRoot } from './format.ts'

/** Names restore uses inside a data dir while swapping it; never part of a backup. */
export const SWAP_PREFIXES = ['.xoa-restore-', '.xoa-old-']

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex')
}

/** Copy `src` into the open descriptor `to`, hashing on the way. */
function copyInto(src: string, to: number): { size: number; sha256: string } {
  const hash = createHash('sha256')
  const buf = Buffer.allocUnsafe(1 << 20)
  const from = openSync(src, 'r')
  let size = 0
  try {
    for (let n = readSync(from, buf); n > 0; n = readSync(from, buf)) {
      writeSync(to, buf, 0, n)
      hash.update(buf.subarray(0, n))
      size += n
    }
  } finally {
    closeSync(from)
  }
  return { size, sha256: hash.digest('hex') }
}

/** Copy into a new file that is 0600 from its creation (copyFile would give it the source's mode first). */
function copyPrivate(src: string, dest: string): { size: number; sha256: string } {
  mkdirSync(dirname(dest), { recursive: true, mode: 0o700 })
  const to = openSync(dest, 'wx', 0o600)
  try {
    return copyInto(src, to)
  } finally {
    closeSync(to)
  }
}

function metaOf(path: string) {
  const st = lstatSync(path)
  return { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid }
}

export interface Collected {
  root: SectionRoot
  entries: Entry[]
  skipped: string[]
}

/** Copy the tree at `dir` into `staging/files/<section>/`, recording every entry; staged copies are 0600. */
export function collectTree(section: Section, dir: string, staging: string): Collected {
  let st: ReturnType<typeof lstatSync>
  try {
    st = lstatSync(dir)
  } catch {
    return { root: { dir, present: false, mode: 0, uid: 0, gid: 0 }, entries: [], skipped: [] }
  }
  if (!st.isDirectory())
    return { root: { dir, present: false, mode: 0, uid: 0, gid: 0 }, entries: [], skipped: [dir] }
  const entries: Entry[] = []
  const skipped: string[] = []
  const walk = (rel: string) => {
    const here = rel ? join(dir, rel) : dir
    for (const name of readdirSync(here).sort()) {
      if (!rel && SWAP_PREFIXES.some((p) => name.startsWith(p))) continue
      const r = rel ? `${rel}/${name}` : name
      const src = join(dir, r)
      const s = lstatSync(src)
      const meta = { mode: s.mode & 0o7777, uid: s.uid, gid: s.gid }
      if (s.isDirectory()) {
        entries.push({ type: 'dir', section, path: r, ...meta })
        walk(r)
      } else if (s.isSymbolicLink()) {
        entries.push({ type: 'symlink', section, path: r, target: readlinkSync(src), ...meta })
      } else if (s.isFile()) {
        const copied = copyPrivate(src, join(staging, archivePathOf({ section, path: r })))
        entries.push({ type: 'file', section, path: r, ...copied, ...meta })
      } else {
        skipped.push(src)
      }
    }
  }
  walk('')
  return { root: { dir, present: true, ...metaOf(dir) }, entries, skipped }
}

/** Stage one file under files/<section>/<name> (for the pin, which is kept but never restored). */
export function collectFile(section: Section, src: string, name: string, staging: string): Entry | undefined {
  let s: ReturnType<typeof lstatSync>
  try {
    s = lstatSync(src)
  } catch {
    return undefined
  }
  if (!s.isFile()) return undefined
  const copied = copyPrivate(src, join(staging, archivePathOf({ section, path: name })))
  return {
    type: 'file',
    section,
    path: name,
    ...copied,
    mode: s.mode & 0o7777,
    uid: s.uid,
    gid: s.gid,
  }
}

/** Put `src` at `target` atomically: temp file beside it (0600 from creation), owner, mode, fsync, rename. */
export function placeFile(target: string, src: string, meta: { mode: number; uid: number; gid: number }) {
  const tmp = join(dirname(target), `.${randomBytes(6).toString('hex')}.xoa-tmp`)
  const fd = openSync(tmp, 'wx', 0o600)
  try {
    copyInto(src, fd)
    fchownSync(fd, meta.uid, meta.gid)
    fchmodSync(fd, meta.mode)
    fsyncSync(fd)
    closeSync(fd)
    renameSync(tmp, target)
  } catch (e) {
    try {
      closeSync(fd)
    } catch {}
    rmSync(tmp, { force: true })
    throw e
  }
}

function ensureDir(path: string, meta: { mode: number; uid: number; gid: number }) {
  mkdirSync(path, { recursive: true, mode: 0o700 })
  chownSync(path, meta.uid, meta.gid)
  chmodSync(path, meta.mode)
}

function placeSymlink(target: string, e: Extract<Entry, { type: 'symlink' }>) {
  const tmp = join(dirname(target), `.${randomBytes(6).toString('hex')}.xoa-tmp`)
  symlinkSync(e.target, tmp)
  lchownSync(tmp, e.uid, e.gid)
  renameSync(tmp, target)
}

/** Put each entry back under `dir`, one atomic write per file; files the backup lacks are left alone. */
export function restoreOverlay(dir: string, root: SectionRoot, entries: Entry[], staging: string): void {
  ensureDir(dir, root)
  for (const e of entries) {
    const target = join(dir, e.path)
    if (e.type === 'dir') ensureDir(target, e)
    else if (e.type === 'symlink') placeSymlink(target, e)
    else placeFile(target, join(staging, archivePathOf(e)), e)
  }
}

/**
 * Replace the whole content of `dir` (the data dir: LevelDB must not mix files of two points in time).
 * The new tree is built inside `dir` first, so the swap is renames on one filesystem even when `dir` is a
 * mount point; the old content is removed only after the new one is in place.
 */
export function prepareReplace(
  dir: string,
  root: SectionRoot,
  entries: Entry[],
  staging: string,
): { commit(): void; abort(): void } {
  ensureDir(dir, root)
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`
  const fresh = join(dir, `${SWAP_PREFIXES[0]}${tag}`)
  mkdirSync(fresh, { mode: 0o700 })
  try {
    restoreOverlay(fresh, { ...root, mode: 0o700 }, entries, staging)
  } catch (e) {
    rmSync(fresh, { recursive: true, force: true })
    throw e
  }
  const commit = () => {
    const old = join(dir, `${SWAP_PREFIXES[1]}${tag}`)
    mkdirSync(old, { mode: 0o700 })
    for (const name of readdirSync(dir))
      if (!SWAP_PREFIXES.some((p) => name.startsWith(p))) renameSync(join(dir, name), join(old, name))
    for (const name of readdirSync(fresh)) renameSync(join(fresh, name), join(dir, name))
    rmSync(fresh, { recursive: true, force: true })
    rmSync(old, { recursive: true, force: true })
    chownSync(dir, root.uid, root.gid)
    chmodSync(dir, root.mode)
  }
  return { commit, abort: () => rmSync(fresh, { recursive: true, force: true }) }
}
