// Opening what the policy named, checked on the open descriptor itself: the tool later receives that
// descriptor (/proc/self/fd/N), so swapping a symlink in after the check cannot redirect it.
import { constants } from 'node:fs'
import { type FileHandle, lstat, open, readFile, readlink } from 'node:fs/promises'
import { join } from 'node:path'
import type { Pin } from './types.ts'

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK } = constants

/** A pinned path failed its check: the request is refused with this reason. */
export class PinRefused extends Error {}

export interface Pinned {
  /** Descriptor for each child fd number. */
  fds: Map<number, number>
  release(): Promise<void>
}

const procFd = (fd: number) => `/proc/self/fd/${fd}`

export async function pinAll(pins: Pin[], mountsDir: string): Promise<Pinned> {
  const handles: FileHandle[] = []
  const fds = new Map<number, number>()
  const release = async () => {
    await Promise.all(handles.map((h) => h.close().catch(() => {})))
  }
  try {
    for (const pin of pins) {
      const h =
        pin.kind === 'mountPoint'
          ? await pinMountPoint(mountsDir, pin.name)
          : pin.kind === 'mounted'
            ? await pinMounted(mountsDir, pin.name)
            : await pinImage(pin.path)
      handles.push(h)
      fds.set(pin.childFd, h.fd)
    }
  } catch (e) {
    await release()
    throw e
  }
  return { fds, release }
}

/** The refusal for a failed open; O_DIRECTORY|O_NOFOLLOW on a symlink says ENOTDIR, so lstat tells which. */
async function why(e: unknown, what: string, path: string): Promise<PinRefused> {
  let code = (e as NodeJS.ErrnoException).code
  if (code === 'ENOTDIR' && (await lstat(path).catch(() => undefined))?.isSymbolicLink()) code = 'ELOOP'
  const text: Record<string, string> = {
    ELOOP: `${what} is a symlink`,
    ENOTDIR: `${what} is not a directory`,
    ENOENT: `${what} does not exist`,
    EACCES: `${what} cannot be opened (permission denied)`,
  }
  return new PinRefused(text[code ?? ''] ?? `${what} cannot be opened: ${(e as Error).message}`)
}

/** mountsDir itself, held open; its real path must be exactly the configured one (no symlink anywhere). */
async function openMountsDir(mountsDir: string): Promise<FileHandle> {
  let h: FileHandle
  try {
    h = await open(mountsDir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
  } catch (e) {
    throw await why(e, `mounts directory ${mountsDir}`, mountsDir)
  }
  const real = await readlink(procFd(h.fd))
  if (real !== mountsDir) {
    await h.close()
    throw new PinRefused(`mounts directory ${mountsDir} resolves to ${real}: a symlink is in its path`)
  }
  return h
}

/** A directory directly in mountsDir, not a symlink, not already a mount point. */
async function pinMountPoint(mountsDir: string, name: string): Promise<FileHandle> {
  const dir = await openMountsDir(mountsDir)
  const path = join(mountsDir, name)
  try {
    // /proc/self/fd/<dir>/<name> walks from the held directory: openat(dir, name, O_NOFOLLOW).
    const child = `${procFd(dir.fd)}/${name}`
    let h: FileHandle
    try {
      h = await open(child, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
    } catch (e) {
      throw await why(e, `mount point ${path}`, child)
    }
    try {
      const [st, parent, l, real] = await Promise.all([
        h.stat(),
        dir.stat(),
        lstat(child).catch(() => undefined),
        readlink(procFd(h.fd)),
      ])
      // Gone or replaced since the open: the attacker is racing us; refuse rather than guess.
      if (l === undefined || st.dev !== l.dev || st.ino !== l.ino)
        throw new PinRefused(`mount point ${path} changed while checked`)
      if (real !== path) throw new PinRefused(`mount point ${path} resolves to ${real}`)
      if (st.dev !== parent.dev) throw new PinRefused(`${path} is already a mount point`)
      return h
    } catch (e) {
      await h.close()
      throw e
    }
  } finally {
    await dir.close()
  }
}

/**
 * For umount: mountsDir is held and passed; the name must be a mount point in the mount table. The table
 * is read rather than stat(2)ing the path, which could hang on a dead NFS server; a mounted directory
 * cannot be renamed or replaced, so the name keeps meaning that mount until it is unmounted.
 */
async function pinMounted(mountsDir: string, name: string): Promise<FileHandle> {
  const dir = await openMountsDir(mountsDir)
  const path = join(mountsDir, name)
  const table = await readFile('/proc/self/mountinfo', 'utf8')
  if (!mountPoints(table).includes(path)) {
    await dir.close()
    throw new PinRefused(`${path} is not a mount point`)
  }
  return dir
}

/** Mount points listed in a /proc/<pid>/mountinfo text (field 5, octal escapes decoded). */
export function mountPoints(mountinfo: string): string[] {
  return mountinfo
    .split('\n')
    .filter(Boolean)
    .map((line) =>
      (line.split(' ')[4] ?? '').replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8))),
    )
}

/** A regular file with one link, reached through no symlink at all (its real path is the requested one). */
async function pinImage(path: string): Promise<FileHandle> {
  let h: FileHandle
  try {
    // O_NONBLOCK: opening a FIFO planted as "image" must not hang the broker; fstat refuses it next.
    h = await open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK)
  } catch (e) {
    throw await why(e, `image ${path}`, path)
  }
  try {
    const st = await h.stat()
    if (st.isBlockDevice()) throw new PinRefused(`image ${path} is a block device`)
    if (st.isCharacterDevice()) throw new PinRefused(`image ${path} is a character device`)
    if (!st.isFile()) throw new PinRefused(`image ${path} is not a regular file`)
    // A hard link could make a root-only file appear below mountsDir under another name.
    if (st.nlink !== 1) throw new PinRefused(`image ${path} has ${st.nlink} hard links`)
    const real = await readlink(procFd(h.fd))
    if (real !== path) throw new PinRefused(`image ${path} resolves to ${real}: a symlink is in its path`)
    return h
  } catch (e) {
    await h.close()
    throw e
  }
}
