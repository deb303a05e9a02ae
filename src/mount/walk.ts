// Walking a path from "/" one component at a time with O_PATH|O_NOFOLLOW (openat(dirfd, name) through
// /proc/self/fd/<dirfd>/<name>): a symlink anywhere is seen as a symlink and refused before anything below it
// is opened, and each directory is checked on its own descriptor.
import { constants } from 'node:fs'
import { CallFailed, type FdStat, type Syscalls } from './syscalls.ts'

const { O_DIRECTORY, O_NOFOLLOW, S_IFMT, S_IFDIR, S_IFLNK } = constants
/** Linux O_PATH (Node does not export it): a handle for walking and fstat, never reading. */
export const O_PATH = 0o10000000

/** A path failed its check: the request (or the start) is refused with this reason. */
export class PathRefused extends Error {
  constructor(
    message: string,
    /** The errno name when a call failed (ENOENT…). */
    readonly code?: string,
  ) {
    super(message)
  }
}

export const procFd = (fd: number) => `/proc/self/fd/${fd}`
export const kind = (st: FdStat) => st.mode & S_IFMT

/** Why a directory on the way to a mount point (or the broker socket) would let a non-root user swap what is below it. */
export function unsafeDir(st: FdStat, path: string): string | undefined {
  if (st.uid !== 0)
    return `${path} is owned by uid ${st.uid}, not root: its owner could swap what is below it`
  if (st.mode & 0o022 && !(st.mode & 0o1000))
    return `${path} is writable by group or others without the sticky bit: they could swap what is below it`
  return undefined
}

const REASON: Record<string, string> = {
  ENOENT: 'does not exist',
  ENOTDIR: 'is not a directory',
  EACCES: 'cannot be opened (permission denied)',
  ELOOP: 'is a symlink',
}
export const failed = (e: unknown, path: string): Error =>
  e instanceof CallFailed
    ? new PathRefused(`${path} ${REASON[e.code] ?? `cannot be opened: ${e.message}`}`, e.code)
    : (e as Error)

/**
 * Walk `abs` from "/" with O_PATH|O_NOFOLLOW; every component but the last must be a directory (and pass
 * `checkDir` when given), the last is returned open (O_PATH) with its stat, whatever its type.
 */
export async function walk(
  sys: Syscalls,
  abs: string,
  opened: number[],
  checkDir?: (st: FdStat, path: string) => string | undefined,
): Promise<{ fd: number; st: FdStat }> {
  const parts = abs.split('/').filter(Boolean)
  let fd = await sys.open('/', O_PATH | O_DIRECTORY)
  let path = ''
  try {
    for (let i = 0; i <= parts.length; i++) {
      const st = await sys.fstat(fd)
      const shown = path || '/'
      if (i === parts.length) {
        opened.push(fd)
        return { fd, st }
      }
      if (kind(st) === S_IFLNK) throw new PathRefused(`${shown} is a symlink`)
      if (kind(st) !== S_IFDIR) throw new PathRefused(`${shown} is not a directory`)
      const unsafe = checkDir?.(st, shown)
      if (unsafe) throw new PathRefused(unsafe)
      path += `/${parts[i]}`
      let child: number
      try {
        child = await sys.open(`${procFd(fd)}/${parts[i]}`, O_PATH | O_NOFOLLOW)
      } catch (e) {
        throw failed(e, path)
      }
      await sys.close(fd).catch(() => {})
      fd = child
    }
  } catch (e) {
    await sys.close(fd).catch(() => {})
    throw e
  }
  throw new Error('unreachable')
}
