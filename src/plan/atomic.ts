// Writes that never leave a half-written or wrongly-owned file at the final path: a temp file in the same
// directory gets content, owner and mode, is fsynced, then renamed over the target.
import { randomBytes } from 'node:crypto'
import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeSync,
} from 'node:fs'
import { basename, dirname, join } from 'node:path'

export interface Ownership {
  uid: number
  gid: number
  mode: number
}

function tempNext(path: string): string {
  return join(dirname(path), `.${basename(path)}.xoa-${randomBytes(4).toString('hex')}`)
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

export function writeFileAtomic(path: string, content: string, own: Ownership): void {
  mkdirSync(dirname(path), { recursive: true })
  const tmp = tempNext(path)
  // 0600 from the first byte: a secret is never readable by others, even before the chmod.
  const fd = openSync(tmp, 'wx', 0o600)
  try {
    try {
      writeSync(fd, content)
      fchownSync(fd, own.uid, own.gid)
      fchmodSync(fd, own.mode)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, path)
  } catch (e) {
    rmSync(tmp, { force: true })
    throw e
  }
  fsyncDir(dirname(path))
}

export function ensureDir(path: string, own: Ownership): void {
  mkdirSync(path, { recursive: true })
  setOwnership(path, own)
}

/**
 * Owner and mode through a descriptor opened without following a final symlink: an account that owns the parent
 * (the service's home, the admin's .ssh) cannot swap the entry for a link to /etc/shadow between plan and chown.
 */
export function setOwnership(path: string, own: Ownership): void {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
  try {
    fchownSync(fd, own.uid, own.gid)
    fchmodSync(fd, own.mode)
  } finally {
    closeSync(fd)
  }
}

export function symlinkAtomic(path: string, target: string): void {
  mkdirSync(dirname(path), { recursive: true })
  const tmp = tempNext(path)
  symlinkSync(target, tmp)
  try {
    renameSync(tmp, path)
  } catch (e) {
    rmSync(tmp, { force: true })
    throw e
  }
}
