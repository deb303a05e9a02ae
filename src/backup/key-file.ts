// The host's backup key on disk: <stateDir>/secrets/backup-key, 64 hex digits, root-only (0600 in the 0700
// secrets dir), created once by the first backup (O_EXCL then link(2), so two backups at once agree on one
// key) and never archived. `xoa restore --key FILE` reads a copy of it on another host.
import { randomBytes } from 'node:crypto'
import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  unlinkSync,
  writeSync,
} from 'node:fs'
import { at, openDirPath, openFileAt } from '../fs/fd-sync.ts'
import { statePaths } from '../spec/paths.ts'
import type { Spec } from '../spec/schema.ts'
import { XoaError } from '../util/errors.ts'
import { KEY_BYTES } from './auth.ts'

export const BACKUP_KEY_FILE = 'backup-key'

export function hostKeyPath(spec: Spec): string {
  return `${statePaths(spec).secrets}/${BACKUP_KEY_FILE}`
}

function parseKey(text: string, where: string): Buffer {
  const hex = text.trim()
  if (!/^[0-9a-f]+$/i.test(hex) || hex.length !== KEY_BYTES * 2)
    throw new XoaError(`${where} is not an xoa backup key (${KEY_BYTES * 2} hex digits)`, {
      hint: 'pass the copy of <stateDir>/secrets/backup-key from the host that made the backup',
    })
  return Buffer.from(hex, 'hex')
}

/** The secrets dir, opened through descriptors; created root 0700 when missing. */
function openSecrets(spec: Spec): number {
  const dir = statePaths(spec).secrets
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const fd = openDirPath(dir)
  const st = fstatSync(fd)
  if (st.uid !== process.getuid?.() || (st.mode & 0o077) !== 0) {
    closeSync(fd)
    throw new XoaError(
      `${dir} must be private to ${process.getuid?.() === 0 ? 'root' : 'this user'} (0700)`,
      {
        hint: `chown root:root ${dir} && chmod 0700 ${dir} (xoa apply does it)`,
      },
    )
  }
  return fd
}

function readAt(dirFd: number, where: string): Buffer | undefined {
  const o = openFileAt(dirFd, BACKUP_KEY_FILE)
  if (o.kind === 'other') {
    if (o.what === 'gone') return undefined
    throw new XoaError(`${where} is a ${o.what}, not the backup key`, { hint: `remove ${where}` })
  }
  try {
    if (o.st.uid !== process.getuid?.() || (o.st.mode & 0o077) !== 0 || o.st.nlink !== 1 || o.st.size > 256)
      throw new XoaError(`${where} must be a private file of its own (0600, one link)`, {
        hint: `chmod 0600 ${where}`,
      })
    const buf = Buffer.alloc(Number(o.st.size))
    readSync(o.fd, buf, 0, buf.length, 0)
    return parseKey(buf.toString('utf8'), where)
  } finally {
    closeSync(o.fd)
  }
}

/** Write `key` as the host's key unless there is one already; returns the key in force. */
function placeKey(dirFd: number, key: Buffer, where: string): Buffer {
  const tmp = `.${BACKUP_KEY_FILE}.${randomBytes(4).toString('hex')}.tmp`
  const fd = openSync(
    at(dirFd, tmp),
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o600,
  )
  try {
    writeSync(fd, `${key.toString('hex')}\n`)
    fsyncSync(fd)
    closeSync(fd)
    try {
      linkSync(at(dirFd, tmp), at(dirFd, BACKUP_KEY_FILE))
      return key
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
      return readAt(dirFd, where)! // another xoa made it first: use that one
    }
  } finally {
    unlinkSync(at(dirFd, tmp))
  }
}

/** This host's key; the first call creates it. */
export function hostKey(spec: Spec): Buffer {
  const where = hostKeyPath(spec)
  const dir = openSecrets(spec)
  try {
    return readAt(dir, where) ?? placeKey(dir, randomBytes(KEY_BYTES), where)
  } finally {
    closeSync(dir)
  }
}

/** This host's key if it has one (restore never creates one by itself). */
export function existingHostKey(spec: Spec): Buffer | undefined {
  const where = hostKeyPath(spec)
  const dir = openSecrets(spec)
  try {
    return readAt(dir, where)
  } finally {
    closeSync(dir)
  }
}

/** Adopt `key` as this host's key when it has none, so its later backups and the old ones share a key. */
export function adoptKey(spec: Spec, key: Buffer): 'adopted' | 'kept' {
  const dir = openSecrets(spec)
  try {
    if (readAt(dir, hostKeyPath(spec))) return 'kept'
    placeKey(dir, key, hostKeyPath(spec))
    return 'adopted'
  } finally {
    closeSync(dir)
  }
}

/** A key file given on the command line (`xoa restore --key FILE`). */
export function readKeyArgument(path: string): Buffer {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (e) {
    throw new XoaError(`cannot read the key ${path}: ${(e as Error).message}`)
  }
  return parseKey(text, path)
}
