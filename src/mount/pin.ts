// Opening what the policy named, checked on the open descriptor itself: the tool later receives that
// descriptor (/proc/self/fd/N), so swapping a symlink in after the check cannot redirect it.
// Paths are walked from "/" one component at a time with O_PATH|O_NOFOLLOW (openat(dirfd, name) through
// /proc/self/fd/<dirfd>/<name>): a symlink anywhere is seen as a symlink and refused before anything
// below it is opened. The calls that may touch a remote or FUSE file system run in a worker with a
// deadline (syscalls.ts), so a hung one refuses the request instead of freezing the daemon.
import { randomBytes } from 'node:crypto'
import { constants, readFileSync } from 'node:fs'
import { CallFailed, directCalls, type Syscalls, stuckWorkers, workerCalls } from './syscalls.ts'
import type { Pin } from './types.ts'
import { failed, kind, O_PATH, PathRefused as PinRefused, procFd, unsafeDir, walk } from './walk.ts'

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK, S_IFMT, S_IFDIR, S_IFREG, S_IFLNK } = constants

/** Deadline for the whole pin job of one request. */
export const PIN_TIMEOUT_MS = 5000
/** Past this many pin workers stuck in the kernel, pins needing one are refused (umount needs none). */
export const MAX_STUCK_PINS = 8

/** A pinned path failed its check: the request is refused with this reason. */
export { PinRefused }

export interface Pinned {
  /** Descriptor for each child fd number. */
  fds: Map<number, number>
  release(): Promise<void>
}

export interface PinOptions {
  /** false (`xoa broker check`): check a mount point without making it root's. */
  replace?: boolean
  timeoutMs?: number
}

export async function pinAll(pins: Pin[], mountsDir: string, opts: PinOptions = {}): Promise<Pinned> {
  // umount only holds mountsDir, whose path root alone controls: no worker, so it works with all stuck.
  const onlyLocal = pins.every((p) => p.kind === 'mounted')
  if (!onlyLocal && stuckWorkers() >= MAX_STUCK_PINS)
    throw new PinRefused(
      `${stuckWorkers()} earlier pins are stuck on a hung file system: unmount it first (umount -l)`,
    )
  const sys = onlyLocal ? directCalls() : workerCalls(opts.timeoutMs ?? PIN_TIMEOUT_MS)
  const opened: number[] = []
  const fds = new Map<number, number>()
  // The worker stays until release: Node closes what a worker opened when it ends. close(2) of a file on
  // FUSE waits for its server (FLUSH), so closing happens there too, off the event loop and the pool.
  const release = async () => {
    await Promise.all(opened.splice(0).map((fd) => sys.close(fd).catch(() => {})))
    sys.end()
  }
  try {
    for (const pin of pins) {
      const fd =
        pin.kind === 'mountPoint'
          ? await pinMountPoint(sys, mountsDir, pin.name, opts.replace ?? true, opened)
          : pin.kind === 'mounted'
            ? await pinMounted(sys, mountsDir, pin.name, opened)
            : await pinImage(sys, pin.path, opened)
      fds.set(pin.childFd, fd)
    }
  } catch (e) {
    await release()
    if (e instanceof CallFailed) throw new PinRefused(e.message)
    throw e
  }
  return { fds, release }
}

/** mountsDir held open (O_PATH): a real directory reached through no symlink, owned as `strict` demands. */
async function openMountsDir(sys: Syscalls, mountsDir: string, opened: number[], strict: boolean) {
  const check = strict ? unsafeDir : undefined
  const { fd, st } = await walk(sys, mountsDir, opened, check)
  const hint = ' (xoa apply makes it root:<service group> 01770)'
  if (kind(st) === S_IFLNK) throw new PinRefused(`mounts directory ${mountsDir} is a symlink`)
  if (kind(st) !== S_IFDIR) throw new PinRefused(`mounts directory ${mountsDir} is not a directory`)
  const unsafe = check?.(st, mountsDir)
  if (unsafe) throw new PinRefused(`mounts directory: ${unsafe}${hint}`)
  return fd
}

/** Is `path` a mount point? From the mount table, so nothing on a hung mount is touched. */
// Read synchronously: procfs answers at once, and this must work even if libuv's pool were full.
async function isMountPoint(path: string): Promise<boolean> {
  return mountPoints(readFileSync('/proc/self/mountinfo', 'utf8')).includes(path)
}

/**
 * The mount point: a fresh root-owned directory renamed over the service's `<name>` (an empty directory,
 * or nothing). mountsDir is root-owned and sticky, so from then on the service can neither rename nor
 * remove it: the path `<mountsDir>/<name>`, which mount.nfs resolves again just before mount(2), keeps
 * meaning this directory whatever the helper does with paths. Returns it open (O_RDONLY).
 */
async function pinMountPoint(
  sys: Syscalls,
  mountsDir: string,
  name: string,
  replace: boolean,
  opened: number[],
): Promise<number> {
  const path = `${mountsDir}/${name}`
  const dir = await openMountsDir(sys, mountsDir, opened, true)
  if (await isMountPoint(path)) throw new PinRefused(`${path} is already a mount point`)
  const at = (n: string) => `${procFd(dir)}/${n}`
  if (!replace) {
    let fd: number
    try {
      fd = await sys.open(at(name), O_PATH | O_NOFOLLOW)
    } catch (e) {
      throw failed(e, `mount point ${path}`)
    }
    opened.push(fd)
    const st = await sys.fstat(fd)
    if (kind(st) === S_IFLNK) throw new PinRefused(`mount point ${path} is a symlink`)
    if (kind(st) !== S_IFDIR) throw new PinRefused(`mount point ${path} is not a directory`)
    return fd
  }
  const tmp = `.xoa-mnt-${randomBytes(8).toString('hex')}`
  try {
    await sys.mkdir(at(tmp), 0o700)
  } catch (e) {
    throw failed(e, `${mountsDir}/${tmp}`)
  }
  let fd: number
  try {
    fd = await sys.open(at(tmp), O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
    opened.push(fd)
    await sys.fchmod(fd, 0o755)
    await sys.rename(at(tmp), at(name))
  } catch (e) {
    await sys.rmdir(at(tmp)).catch(() => {})
    const code = e instanceof CallFailed ? e.code : ''
    const why: Record<string, string> = {
      ENOTEMPTY: 'is not empty',
      EEXIST: 'is not empty',
      ENOTDIR: 'is not a directory (a symlink or a file)',
      EISDIR: 'is not a directory',
      EBUSY: 'is already a mount point',
    }
    if (why[code]) throw new PinRefused(`mount point ${path} ${why[code]}`)
    throw e
  }
  const [st, real] = await Promise.all([sys.fstat(fd), sys.readlink(procFd(fd))])
  if (st.uid !== 0 || kind(st) !== S_IFDIR) throw new PinRefused(`mount point ${path} changed while checked`)
  if (real !== path) throw new PinRefused(`mount point ${path} resolves to ${real}`)
  return fd
}

/**
 * For umount: mountsDir is held and passed; the name must be a mount point in the mount table. The table
 * is read rather than stat(2)ing the path, which would hang on a dead server; a mounted directory cannot
 * be renamed or replaced, so the name keeps meaning that mount until it is unmounted. Not strict about
 * owners, so a mount made before mountsDir became root's can still be unmounted.
 */
async function pinMounted(sys: Syscalls, mountsDir: string, name: string, opened: number[]) {
  const path = `${mountsDir}/${name}`
  const dir = await openMountsDir(sys, mountsDir, opened, false)
  if (!(await isMountPoint(path))) throw new PinRefused(`${path} is not a mount point`)
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

/** A regular file with one link, reached through no symlink at all, checked before it is opened for reading. */
async function pinImage(sys: Syscalls, path: string, opened: number[]): Promise<number> {
  const { fd: handle, st } = await walk(sys, path, opened)
  if (kind(st) === S_IFLNK) throw new PinRefused(`image ${path} is a symlink`)
  if ((st.mode & S_IFMT) === constants.S_IFBLK) throw new PinRefused(`image ${path} is a block device`)
  if ((st.mode & S_IFMT) === constants.S_IFCHR) throw new PinRefused(`image ${path} is a character device`)
  if (kind(st) !== S_IFREG) throw new PinRefused(`image ${path} is not a regular file`)
  // A hard link could make a root-only file appear below mountsDir under another name.
  if (st.nlink !== 1) throw new PinRefused(`image ${path} has ${st.nlink} hard links`)
  // Reopening the O_PATH handle reads the very inode checked; O_NONBLOCK in case it is not what it was.
  const fd = await sys.open(procFd(handle), O_RDONLY | O_NONBLOCK)
  opened.push(fd)
  const again = await sys.fstat(fd)
  if (again.dev !== st.dev || again.ino !== st.ino)
    throw new PinRefused(`image ${path} changed while checked`)
  return fd
}
