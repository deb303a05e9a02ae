// The synchronous, descriptor-level half of the safe filesystem layer (SafeDir is the other): backup and restore
// stream large files and keep holes, so they work on raw descriptors. Node has no openat(2), so an entry is
// reached as /proc/self/fd/<dirfd>/<name> with one plain name and O_NOFOLLOW on it, and whatever was opened is
// checked with fstat. A directory the service account owns (the data dir) can change under us at any time;
// working through descriptors means a swapped-in symlink is refused, never followed, and a renamed directory
// is still the one we checked.
import { randomBytes } from 'node:crypto'
import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  readSync,
  renameSync,
  rmdirSync,
  type Stats,
  unlinkSync,
  writeSync,
} from 'node:fs'
import { isAbsolute, posix } from 'node:path'
import { procPath } from './names.ts'

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK } = constants

export interface Meta {
  uid: number
  gid: number
  mode: number
}

export class UnsafePath extends Error {}

/** One plain name: no '/', not '.' or '..', not empty. */
export function checkName(name: string): string {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0'))
    throw new UnsafePath(`not a plain file name: ${JSON.stringify(name)}`)
  return name
}

/** The path that reaches `name` inside the directory open as `dirFd`, without resolving anything above it. */
export function at(dirFd: number, name: string): string {
  return procPath(dirFd, checkName(name))
}

/** Open `name` in `dirFd` as a directory, refusing a symlink (ELOOP/ENOTDIR) or anything else. */
export function openDirAt(dirFd: number, name: string): number {
  const fd = openSync(at(dirFd, name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
  if (!fstatSync(fd).isDirectory()) {
    closeSync(fd)
    throw new UnsafePath(`${name} is not a directory`)
  }
  return fd
}

/**
 * Open an absolute directory path component by component from '/'. A symlink on the way is followed only
 * when it is root's, in a directory root owns and no one else may write (e.g. /var/run): then no other
 * account can have planted or swapped it. Anything else (a link the service could have made) is refused.
 */
export function openDirPath(abs: string, depth = 0): number {
  if (!isAbsolute(abs)) throw new UnsafePath(`not an absolute path: ${abs}`)
  if (depth > 20) throw new UnsafePath(`too many symlinks resolving ${abs}`)
  let fd = openSync('/', O_RDONLY | O_DIRECTORY)
  let here = '/'
  try {
    for (const name of posix.normalize(abs).split('/').filter(Boolean)) {
      let next: number
      try {
        next = openDirAt(fd, name)
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code
        if (code !== 'ELOOP' && code !== 'ENOTDIR') throw e
        const link = lstatSync(at(fd, name))
        const parent = fstatSync(fd)
        if (!link.isSymbolicLink()) throw e
        if (link.uid !== 0 || parent.uid !== 0 || (parent.mode & 0o022) !== 0)
          throw new UnsafePath(
            `${posix.join(here, name)} is a symlink that another account could have made; refusing to follow it`,
          )
        const target = readlinkSync(at(fd, name))
        next = openDirPath(posix.resolve(here, target), depth + 1)
      }
      closeSync(fd)
      fd = next
      here = posix.join(here, name)
    }
    return fd
  } catch (e) {
    closeSync(fd)
    throw e
  }
}

/** The entry `name` in `dirFd` without following it, or undefined when there is none. */
export function lstatAt(dirFd: number, name: string): Stats | undefined {
  try {
    return lstatSync(at(dirFd, name))
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw e
  }
}

export function entriesAt(dirFd: number): string[] {
  return readdirSync(`/proc/self/fd/${dirFd}`).sort()
}

export type Opened = { kind: 'file'; fd: number; st: Stats } | { kind: 'other'; what: string }

/**
 * Open `name` for reading only if it is a regular file, deciding on what was opened (fstat), not on an
 * earlier lstat: a symlink fails with ELOOP, a fifo does not block (O_NONBLOCK), anything else is closed.
 */
export function openFileAt(dirFd: number, name: string): Opened {
  let fd: number
  try {
    fd = openSync(at(dirFd, name), O_RDONLY | O_NOFOLLOW | O_NONBLOCK)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'ELOOP') return { kind: 'other', what: 'symlink' }
    if (code === 'ENOENT') return { kind: 'other', what: 'gone' }
    if (code === 'ENXIO' || code === 'EISDIR') return { kind: 'other', what: code }
    throw e
  }
  const st = fstatSync(fd)
  if (!st.isFile()) {
    closeSync(fd)
    return { kind: 'other', what: st.isDirectory() ? 'directory' : 'special file' }
  }
  return { kind: 'file', fd, st }
}

const CHUNK = 1 << 20
const zeros = Buffer.alloc(CHUNK)

/**
 * Copy everything readable from `from` into `to`, leaving holes where a whole chunk is zeros (a sparse
 * 2 GiB file stays sparse and costs no disk), streaming in 1 MiB chunks whatever the size.
 */
export function copyFd(from: number, to: number, onChunk?: (b: Buffer) => void): number {
  const buf = Buffer.allocUnsafe(CHUNK)
  let size = 0
  for (let n = readSync(from, buf, 0, CHUNK, null); n > 0; n = readSync(from, buf, 0, CHUNK, null)) {
    const chunk = buf.subarray(0, n)
    onChunk?.(chunk)
    if (n !== CHUNK || !chunk.equals(zeros)) writeSync(to, chunk, 0, n, size)
    size += n
  }
  ftruncateSync(to, size)
  return size
}

/**
 * A new file `name` in `dirFd` with `meta`, filled by `fill`: created 0600 under a temp name (O_EXCL,
 * O_NOFOLLOW), owner and mode set through its descriptor, synced, then renamed over `name` — which replaces
 * a file or a symlink itself, never what a symlink points to, and fails on a directory.
 */
export function writeFileAt(dirFd: number, name: string, meta: Meta, fill: (fd: number) => void): void {
  checkName(name)
  const tmp = `.${randomBytes(6).toString('hex')}.xoa-tmp`
  const fd = openSync(at(dirFd, tmp), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600)
  try {
    fill(fd)
    fchownSync(fd, meta.uid, meta.gid)
    fchmodSync(fd, meta.mode)
    fsyncSync(fd)
    closeSync(fd)
    renameSync(at(dirFd, tmp), at(dirFd, name))
  } catch (e) {
    try {
      closeSync(fd)
    } catch {}
    try {
      unlinkSync(at(dirFd, tmp))
    } catch {}
    throw e
  }
}

/** Open the directory `name` in `dirFd`, creating it when missing; owner and mode set through its fd. */
export function ensureDirAt(dirFd: number, name: string, meta: Meta): number {
  try {
    mkdirSync(at(dirFd, name), { mode: 0o700 })
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
  }
  const fd = openDirAt(dirFd, name)
  setMeta(fd, meta)
  return fd
}

export function setMeta(fd: number, meta: Meta): void {
  fchownSync(fd, meta.uid, meta.gid)
  fchmodSync(fd, meta.mode)
}

/** Remove `name` from `dirFd` and, for a directory, everything in it — through descriptors, following nothing. */
export function removeAt(dirFd: number, name: string): void {
  const st = lstatAt(dirFd, name)
  if (!st) return
  if (!st.isDirectory()) {
    unlinkSync(at(dirFd, name))
    return
  }
  const sub = openDirAt(dirFd, name)
  try {
    for (const n of entriesAt(sub)) removeAt(sub, n)
  } finally {
    closeSync(sub)
  }
  rmdirSync(at(dirFd, name))
}
