// The pieces every safe-dir operation shares: one-component names, the /proc/self/fd route that stands in for
// openat(2) (Node has none), and the refusal error that names the path.
import { constants } from 'node:fs'
import { XoaError } from '../util/errors.ts'

/** Linux O_PATH (same value on x86-64 and arm64; Node does not export it): a handle for lookup and fstat that
 *  opens nothing, so a device node or FIFO is never opened before it is checked. */
export const O_PATH = 0o10000000
/** What every component is opened with: never follow the final symlink, never open the object itself. */
export const LOOKUP = O_PATH | constants.O_NOFOLLOW

/** A path xoa refuses to follow or write: names the path and what is wrong with it. */
export class UnsafePathError extends XoaError {
  readonly path: string
  /** 'ENOTDIR' when something other than a directory (or symlink) stands where a directory is expected. */
  code?: string
  constructor(path: string, problem: string, hint?: string) {
    super(`${path}: ${problem}`, {
      hint:
        hint ??
        'xoa does not follow a symlink or hard link it did not declare; move the entry away and run again',
    })
    this.name = 'UnsafePathError'
    this.path = path
  }
}

/** One directory entry name: no slash, not "." or "..", not empty. Anything else is a caller bug or an attack. */
export function checkName(name: string, where: string): string {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0'))
    throw new UnsafePathError(`${where}/${name}`, 'not a single path component')
  return name
}

/** The path through which the kernel resolves `name` inside the directory open as `fd` (openat's stand-in). */
export function procPath(fd: number, name?: string): string {
  return name === undefined ? `/proc/self/fd/${fd}` : `/proc/self/fd/${fd}/${name}`
}

export function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code
}

export function typeName(mode: number): string {
  switch (mode & constants.S_IFMT) {
    case constants.S_IFDIR:
      return 'a directory'
    case constants.S_IFREG:
      return 'a regular file'
    case constants.S_IFLNK:
      return 'a symlink'
    case constants.S_IFIFO:
      return 'a FIFO'
    case constants.S_IFSOCK:
      return 'a socket'
    case constants.S_IFCHR:
      return 'a character device'
    case constants.S_IFBLK:
      return 'a block device'
    default:
      return 'of an unknown type'
  }
}

/** Split a relative path into components; ".." is refused (a walk never climbs), "." and empties dropped. */
export function components(rel: string, where: string): string[] {
  const parts = rel.split('/').filter((p) => p !== '' && p !== '.')
  for (const p of parts) if (p === '..') throw new UnsafePathError(`${where}/${rel}`, 'contains ".."')
  return parts
}
