// Whole-path conveniences over SafeDir for callers that write one file on the live host: the parent is walked
// from "/" without following a symlink other than SYSTEM_LINKS (unless the caller declares its own list), the
// file goes in through the parent's fd.
import { basename, dirname } from 'node:path'
import { UnsafePathError } from './names.ts'
import { type Meta, SafeDir, type WalkOptions, type WriteOptions } from './safe-dir.ts'

/** Root-owned symlinks every Debian/Ubuntu/NixOS-style tree may have (usrmerge, /var/run): their targets are
 *  walked beneath the same start, so under --root they still resolve inside the prefix. */
export const SYSTEM_LINKS = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/var/run', '/var/lock']

/** SafeDir.open with SYSTEM_LINKS declared unless the caller says otherwise. */
export function openLive(absPath: string, opts: WalkOptions = {}): Promise<SafeDir> {
  return SafeDir.open(absPath, { ...opts, declaredLinks: opts.declaredLinks ?? SYSTEM_LINKS })
}

/** The directory holding `absPath`, and the last component's name. */
export async function openParent(
  absPath: string,
  opts: WalkOptions = {},
): Promise<{ dir: SafeDir; name: string }> {
  const name = basename(absPath)
  if (!absPath.startsWith('/') || name === '' || name === '.' || name === '..')
    throw new UnsafePathError(absPath, 'expected an absolute path to a file')
  return { dir: await openLive(dirname(absPath), opts), name }
}

/** Run `fn` with the parent of `absPath` open; the handle is closed afterwards. */
export async function withParent<T>(
  absPath: string,
  opts: WalkOptions,
  fn: (dir: SafeDir, name: string) => Promise<T>,
): Promise<T> {
  const { dir, name } = await openParent(absPath, opts)
  try {
    return await fn(dir, name)
  } finally {
    await dir.close()
  }
}

/** Atomically write one file; missing parents are created with `opts.create` (or refused without it). */
export function writeFileAt(
  absPath: string,
  data: string | Buffer,
  meta: Meta,
  opts: WalkOptions & WriteOptions = {},
): Promise<'created' | 'changed' | 'same'> {
  return withParent(absPath, opts, (dir, name) => dir.writeFile(name, data, meta, opts))
}

/** A regular file's content, undefined when it (or a parent) is absent; symlinks anywhere are refused. */
export async function readFileAt(
  absPath: string,
  opts: WalkOptions & { maxBytes?: number } = {},
): Promise<Buffer | undefined> {
  try {
    return await withParent(absPath, opts, (dir, name) => dir.readFile(name, opts))
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw e
  }
}

/** The caller's own uid/gid, for files a command writes as whoever runs it. */
export function self(mode: number): Meta {
  return { uid: process.geteuid?.() ?? 0, gid: process.getegid?.() ?? 0, mode }
}
