// Reading a release in the store as content entries, through directory descriptors (the safe layer's
// fd-sync half): nothing inside is followed, every file is opened O_NOFOLLOW and judged on what was opened.
// The one symlink a built release has that is not its own content, `node` → the runtime it was built with
// (an absolute path in the runtimes dir), is read through: an exported release carries its Node, so the
// host that imports it needs no download to run it.
import { createHash } from 'node:crypto'
import { closeSync, readlinkSync, readSync, type Stats } from 'node:fs'
import { at, entriesAt, lstatAt, openDirAt, openDirPath, openFileAt } from '../fs/fd-sync.ts'
import { typeName } from '../fs/names.ts'
import { BadContent, type Entry, sealedMode } from './content.ts'

/** The release's link to its runtime (see src/build/builder.ts). */
export const NODE_LINK = 'node'

export type Item =
  | { entry: Entry & { type: 'dir' } }
  | { entry: Entry & { type: 'symlink' } }
  | { entry: { path: string; type: 'file'; mode: number; size: number }; fd: number; st: Stats }

function modeOf(path: string, st: Stats): number {
  if ((st.mode & 0o7000) !== 0)
    throw new BadContent(
      `${path} has mode ${(st.mode & 0o7777).toString(8)}: a sealed release has no setuid, setgid or sticky bit`,
    )
  return sealedMode(st.isDirectory() ? 'dir' : 'file', st.mode)
}

/**
 * Every entry beneath the directory open as `rootFd`, parents before children, in name order. A file's
 * descriptor is open while the consumer holds its item and closed when the next one is asked for.
 */
export function* walkRelease(rootFd: number): Generator<Item> {
  yield* walkDir(rootFd, '')
}

function* walkDir(dirFd: number, prefix: string): Generator<Item> {
  for (const name of entriesAt(dirFd)) {
    const path = prefix ? `${prefix}/${name}` : name
    const st = lstatAt(dirFd, name)
    if (!st) throw new BadContent(`${path} vanished while it was read`)
    if (st.isSymbolicLink()) {
      const target = readlinkSync(at(dirFd, name))
      if (path === NODE_LINK && target.startsWith('/')) {
        const fd = openDirPath(target)
        try {
          yield { entry: { path, type: 'dir', mode: 0o755 } }
          yield* walkDir(fd, path)
        } finally {
          closeSync(fd)
        }
      } else yield { entry: { path, type: 'symlink', target } }
    } else if (st.isDirectory()) {
      const fd = openDirAt(dirFd, name)
      try {
        yield { entry: { path, type: 'dir', mode: modeOf(path, st) } }
        yield* walkDir(fd, path)
      } finally {
        closeSync(fd)
      }
    } else if (st.isFile()) {
      const opened = openFileAt(dirFd, name)
      if (opened.kind !== 'file') throw new BadContent(`${path} changed while it was read (${opened.what})`)
      try {
        const mode = modeOf(path, opened.st)
        yield { entry: { path, type: 'file', mode, size: opened.st.size }, fd: opened.fd, st: opened.st }
      } finally {
        closeSync(opened.fd)
      }
    } else
      throw new BadContent(`${path} is ${typeName(st.mode)}: a release has only files, dirs and symlinks`)
  }
}

const CHUNK = 1 << 20

/** Read a file descriptor to its end in 1 MiB chunks (from its start). */
export function* chunksOf(fd: number): Generator<Buffer> {
  const buf = Buffer.allocUnsafe(CHUNK)
  let pos = 0
  for (let n = readSync(fd, buf, 0, CHUNK, pos); n > 0; n = readSync(fd, buf, 0, CHUNK, pos)) {
    pos += n
    yield buf.subarray(0, n)
  }
}

/** The entries of the release whose directory is open as `rootFd`, every file hashed. */
export function releaseEntries(rootFd: number): Entry[] {
  const out: Entry[] = []
  for (const item of walkRelease(rootFd)) {
    if (!('fd' in item)) {
      out.push(item.entry)
      continue
    }
    const h = createHash('sha256')
    let size = 0
    for (const c of chunksOf(item.fd)) {
      h.update(c)
      size += c.length
    }
    if (size !== item.entry.size) throw new BadContent(`${item.entry.path} changed size while it was read`)
    out.push({ ...item.entry, sha256: h.digest('hex') })
  }
  return out
}

/** Open a release directory by its absolute path from "/" (no symlink another account could make). */
export function openRelease(dir: string): number {
  return openDirPath(dir)
}
