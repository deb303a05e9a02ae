// The one way xoa writes as root (invariant 7). A SafeDir is an open directory; everything beneath it is
// reached one component at a time through /proc/self/fd/<fd>/<name> (Node has no openat), each component opened
// O_PATH|O_NOFOLLOW and checked with fstat before anything is done with it. So a symlink, a hard link or a
// directory swapped in by another account is seen and refused, never followed; owners and modes are set on
// the inode that was checked, never by path.
import { randomBytes } from 'node:crypto'
import { constants, createWriteStream, type Dirent, type Stats } from 'node:fs'
import {
  chmod,
  chown,
  type FileHandle,
  lstat,
  mkdir,
  open,
  readdir,
  readlink,
  rename,
  rmdir,
  symlink,
  unlink,
} from 'node:fs/promises'
import type { Writable } from 'node:stream'
import { checkName, components, errno, LOOKUP, O_PATH, procPath, typeName, UnsafePathError } from './names.ts'

export type Owner = { uid: number; gid: number }
export type Meta = Owner & { mode: number }

export interface WalkOptions {
  /** Create missing directories with this owner and mode (existing ones are left as they are). */
  create?: Meta
  /** Symlinks that may be followed, as absolute paths seen from the walk's start (for SafeDir.open: real
   *  absolute paths). A declared link's target is itself walked beneath the start: an absolute target
   *  restarts from the start, never from the real "/" when the start is a --root prefix. */
  declaredLinks?: string[]
}

export interface WriteOptions {
  /** Replace a symlink found at the name (rename(2) replaces the link itself, never what it points at) instead
   *  of refusing it: for a file xoa owns outright, where a planted link is debris, not a decision. */
  replaceSymlink?: boolean
}

const MAX_HOPS = 40
const EXPECT_DIR_HINT = 'replace it with a real directory (or remove it), then run again'
const EXPECT_FILE_HINT = 'move it away (xoa writes a regular file there), then run again'

type Pinned = { fh: FileHandle; st: Stats }

export class SafeDir {
  private constructor(
    private readonly handle: FileHandle,
    /** For messages only: never used to reach the directory. */
    readonly path: string,
  ) {}

  get fd(): number {
    return this.handle.fd
  }

  /** Open an absolute path component by component from "/", refusing every symlink not in declaredLinks. */
  static async open(absPath: string, opts: WalkOptions = {}): Promise<SafeDir> {
    if (!absPath.startsWith('/')) throw new UnsafePathError(absPath, 'not an absolute path')
    const root = new SafeDir(await open('/', LOOKUP | constants.O_DIRECTORY), '/')
    try {
      return await root.beneath(absPath, opts)
    } finally {
      await root.close()
    }
  }

  /** `rel` (one or more components, a leading "/" ignored) beneath this directory, never leaving it. */
  async beneath(rel: string, opts: WalkOptions = {}): Promise<SafeDir> {
    const declared = new Set((opts.declaredLinks ?? []).map((l) => `/${components(l, this.path).join('/')}`))
    const stack: SafeDir[] = [this]
    const names: string[] = []
    const todo = components(rel, this.path)
    let hops = 0
    try {
      for (let name = todo.shift(); name !== undefined; name = todo.shift()) {
        if (name === '..') {
          // Only from a declared link's target; never above the start (like a chroot).
          if (stack.length > 1) {
            await stack.pop()?.close()
            names.pop()
          }
          continue
        }
        const top = stack[stack.length - 1] as SafeDir
        const found = await top.child(name, opts.create)
        if (found instanceof SafeDir) {
          stack.push(found)
          names.push(name)
          continue
        }
        const logical = `/${[...names, name].join('/')}`
        if (!declared.has(logical))
          throw new UnsafePathError(
            top.childPath(name),
            `is a symlink (to ${found.target}) that xoa does not declare, so it does not follow it`,
            EXPECT_DIR_HINT,
          )
        if (++hops > MAX_HOPS) throw new UnsafePathError(top.childPath(name), 'too many levels of symlinks')
        if (found.target.startsWith('/')) {
          while (stack.length > 1) await stack.pop()?.close()
          names.length = 0
        }
        todo.unshift(...found.target.split('/').filter((p) => p !== '' && p !== '.'))
      }
      const last = stack.pop() as SafeDir
      await closeAll(stack.slice(1))
      return last === this ? await this.dup() : last
    } catch (e) {
      await closeAll(stack.slice(1))
      throw e
    }
  }

  /** The directory `name` here (created when missing and `create` is given); a symlink is refused. */
  async subdir(name: string, opts: { create?: Meta } = {}): Promise<SafeDir> {
    const found = await this.child(name, opts.create)
    if (found instanceof SafeDir) return found
    throw new UnsafePathError(this.childPath(name), `is a symlink (to ${found.target}), expected a directory`)
  }

  /** The directory `name` here with exactly this owner and mode: created when missing, fixed when not. */
  async ensureDir(name: string, meta: Meta): Promise<'created' | 'changed' | 'same'> {
    const existed = (await this.lstat(name)) !== undefined
    const dir = await this.subdir(name, { create: meta })
    await dir.close()
    const changed = await this.setMeta(name, meta)
    return !existed ? 'created' : changed ? 'changed' : 'same'
  }

  async lstat(name: string): Promise<Stats | undefined> {
    checkName(name, this.path)
    try {
      return await lstat(procPath(this.fd, name))
    } catch (e) {
      if (errno(e) === 'ENOENT') return undefined
      throw e
    }
  }

  /** A regular file's content, or undefined when absent. A symlink, FIFO, device or directory is refused
   *  before it is opened; `uid` refuses a file owned by anyone else. */
  async readFile(name: string, opts: { maxBytes?: number; uid?: number } = {}): Promise<Buffer | undefined> {
    const pinned = await this.pin(name)
    if (!pinned) return undefined
    try {
      const { st } = pinned
      if (!st.isFile()) throw this.refuse(name, `is ${typeName(st.mode)}, expected a regular file`)
      if (opts.uid !== undefined && st.uid !== opts.uid)
        throw this.refuse(name, `is owned by uid ${st.uid}, expected uid ${opts.uid}`)
      const max = opts.maxBytes ?? Number.POSITIVE_INFINITY
      if (st.size > max) throw this.refuse(name, `is larger than ${max} bytes`)
      return await readPinned(pinned, max, this.childPath(name))
    } finally {
      await pinned.fh.close()
    }
  }

  async readlink(name: string): Promise<string | undefined> {
    const st = await this.lstat(name)
    if (!st) return undefined
    if (!st.isSymbolicLink()) throw this.refuse(name, `is ${typeName(st.mode)}, expected a symlink`)
    return readlink(procPath(this.fd, name))
  }

  /** Temp file here, owner and mode set through its descriptor, fsynced, renamed over `name`. A directory or
   *  anything but a regular file at `name` is refused; the same content, owner and mode is left alone. */
  async writeFile(
    name: string,
    data: string | Buffer,
    meta: Meta,
    opts: WriteOptions = {},
  ): Promise<'created' | 'changed' | 'same'> {
    const buf = typeof data === 'string' ? Buffer.from(data) : data
    const existed = await this.unchanged(name, meta, buf, opts)
    if (existed === 'same') return 'same'
    const { tmp, fh } = await this.createTemp(name)
    try {
      await fh.writeFile(buf)
    } catch (e) {
      await fh.close()
      await this.remove(tmp)
      throw e
    }
    await this.install(tmp, fh, name, meta)
    return existed ? 'changed' : 'created'
  }

  /** A temp file to stream into; commit() installs it like writeFile, abort() drops it. */
  async writeStream(
    name: string,
    meta: Meta,
  ): Promise<{ stream: Writable; commit(): Promise<void>; abort(): Promise<void> }> {
    const st = await this.lstat(name)
    if (st && !st.isFile()) throw this.refuse(name, `is ${typeName(st.mode)}, expected a regular file`)
    const { tmp, fh } = await this.createTemp(name)
    // On the fd number, not the FileHandle: a stream on the handle keeps it busy and close() never returns.
    const stream = createWriteStream('', { fd: fh.fd, autoClose: false })
    let done = false
    return {
      stream,
      commit: async () => {
        if (done) return
        done = true
        try {
          // Not stream/promises' finished(): without autoClose the stream never emits 'close', which it awaits.
          if (!stream.writableFinished)
            await new Promise<void>((resolve, reject) => {
              stream.once('finish', resolve)
              stream.once('error', reject)
              if (!stream.writableEnded) stream.end()
            })
        } catch (e) {
          await fh.close()
          await this.remove(tmp)
          throw e
        }
        await this.install(tmp, fh, name, meta)
      },
      abort: async () => {
        if (done) return
        done = true
        stream.destroy()
        await fh.close().catch(() => undefined)
        await this.remove(tmp)
      },
    }
  }

  /** Fix owner and mode of an existing entry on the inode that was checked: a symlink is refused, and so is a
   *  regular file with more than one link (changing it would change the file behind the other name too). */
  async setMeta(name: string, meta: Meta): Promise<boolean> {
    const pinned = await this.pin(name)
    if (!pinned)
      throw Object.assign(new Error(`${this.childPath(name)}: no such file or directory`), { code: 'ENOENT' })
    try {
      const { st, fh } = pinned
      if (!st.isFile() && !st.isDirectory())
        throw this.refuse(
          name,
          `is ${typeName(st.mode)}; xoa only sets owners and modes of files and directories`,
        )
      if (st.isFile() && st.nlink > 1)
        throw this.refuse(
          name,
          `has ${st.nlink} hard links: changing its owner or mode would change the file behind the other names too`,
          'remove the hard link (it may point at a file outside xoa), then run again',
        )
      if (st.isFile()) {
        // fstat's count may be read after the planted link was removed again, while the handle still holds
        // the other file. lstat gives "the name points at this inode" and its link count in one step: the
        // same inode with one link means the name here was its only one at that instant.
        const now = await lstat(procPath(this.fd, name))
        if (now.ino !== st.ino || now.dev !== st.dev)
          throw this.refuse(
            name,
            'was replaced while being checked',
            'run again; if it recurs, find who swaps it',
          )
        if (now.nlink > 1)
          throw this.refuse(
            name,
            `has ${now.nlink} hard links: changing its owner or mode would change the file behind the other names too`,
            'remove the hard link (it may point at a file outside xoa), then run again',
          )
      }
      if (st.uid === meta.uid && st.gid === meta.gid && (st.mode & 0o7777) === meta.mode) return false
      // The magic link resolves to the pinned inode itself, whatever happens to `name` meanwhile.
      await chown(procPath(fh.fd), meta.uid, meta.gid)
      await chmod(procPath(fh.fd), meta.mode)
      return true
    } finally {
      await pinned.fh.close()
    }
  }

  /** A symlink `name` → `target`, made under a temp name and renamed over (atomic for readers). */
  async symlink(name: string, target: string): Promise<'created' | 'changed' | 'same'> {
    const st = await this.lstat(name)
    if (st && !st.isSymbolicLink() && !st.isFile())
      throw this.refuse(name, `is ${typeName(st.mode)}, expected a symlink`)
    if (st?.isSymbolicLink() && (await readlink(procPath(this.fd, name))) === target) return 'same'
    const tmp = tempName(name)
    await symlink(target, procPath(this.fd, tmp))
    try {
      await rename(procPath(this.fd, tmp), procPath(this.fd, name))
    } catch (e) {
      await this.remove(tmp)
      throw e
    }
    await this.syncDir()
    return st ? 'changed' : 'created'
  }

  /** Remove one entry (a file, a symlink itself, or an empty directory); absent is fine. */
  async remove(name: string): Promise<void> {
    const st = await this.lstat(name)
    if (!st) return
    try {
      if (st.isDirectory()) await rmdir(procPath(this.fd, name))
      else await unlink(procPath(this.fd, name))
    } catch (e) {
      if (errno(e) !== 'ENOENT') throw e
    }
  }

  /** Remove `name` and everything beneath it, without ever following a symlink inside it. */
  async removeTree(name: string): Promise<void> {
    const st = await this.lstat(name)
    if (!st) return
    if (!st.isDirectory()) return this.remove(name)
    const sub = await this.subdir(name)
    try {
      for (const e of await sub.entries())
        if (e.isDirectory()) await sub.removeTree(e.name)
        else await sub.remove(e.name)
    } finally {
      await sub.close()
    }
    await this.remove(name)
  }

  /** rename(2) between two open directories: neither name is followed. */
  async rename(name: string, to: SafeDir, toName: string): Promise<void> {
    checkName(name, this.path)
    checkName(toName, to.path)
    await rename(procPath(this.fd, name), procPath(to.fd, toName))
  }

  async entries(): Promise<Dirent[]> {
    return readdir(procPath(this.fd), { withFileTypes: true })
  }

  async close(): Promise<void> {
    await this.handle.close()
  }

  /** For messages: the path of `name` here. */
  childPath(name: string): string {
    return this.path === '/' ? `/${name}` : `${this.path}/${name}`
  }

  /** Another handle on this same directory (callers close each handle they get). */
  async dup(): Promise<SafeDir> {
    return new SafeDir(await open(procPath(this.fd), O_PATH | constants.O_DIRECTORY), this.path)
  }

  private refuse(name: string, problem: string, hint?: string): UnsafePathError {
    return new UnsafePathError(this.childPath(name), problem, hint)
  }

  /** `name` opened O_PATH without following it, and what fstat says it is; undefined when absent. */
  private async pin(name: string): Promise<Pinned | undefined> {
    checkName(name, this.path)
    let fh: FileHandle
    try {
      fh = await open(procPath(this.fd, name), LOOKUP)
    } catch (e) {
      if (errno(e) === 'ENOENT') return undefined
      throw e
    }
    try {
      return { fh, st: await fh.stat() }
    } catch (e) {
      await fh.close()
      throw e
    }
  }

  /** A child directory, or the target of a symlink found there (for the walk to judge). */
  private async child(name: string, create?: Meta): Promise<SafeDir | { target: string }> {
    let pinned = await this.pin(name)
    let made = false
    if (!pinned) {
      if (!create)
        throw Object.assign(new Error(`${this.childPath(name)}: no such directory`), { code: 'ENOENT' })
      try {
        // 0700 until owner and mode are set on the checked inode below: nobody gets in before that.
        await mkdir(procPath(this.fd, name), 0o700)
        made = true
      } catch (e) {
        if (errno(e) !== 'EEXIST') throw e
      }
      pinned = await this.pin(name)
      if (!pinned) throw Object.assign(new Error(`${this.childPath(name)}: vanished`), { code: 'ENOENT' })
    }
    const { fh, st } = pinned
    try {
      if (st.isSymbolicLink()) {
        await fh.close()
        return { target: await readlink(procPath(this.fd, name)) }
      }
      if (!st.isDirectory())
        throw Object.assign(
          this.refuse(name, `is ${typeName(st.mode)}, expected a directory`, EXPECT_DIR_HINT),
          {
            code: 'ENOTDIR',
          },
        )
      if ((st.mode & 0o002) !== 0 && (st.mode & 0o1000) === 0)
        throw this.refuse(
          name,
          'is writable by every account and not sticky: anyone could swap what is in it',
        )
      if (made && create) {
        await chown(procPath(fh.fd), create.uid, create.gid)
        await chmod(procPath(fh.fd), create.mode)
      }
      // The O_PATH handle that was checked is the directory handle: lookups through it reach this inode.
      return new SafeDir(fh, this.childPath(name))
    } catch (e) {
      await fh.close().catch(() => undefined)
      throw e
    }
  }

  /** 'same' when `name` is a regular file with this content, owner and mode; else whether it exists. */
  private async unchanged(
    name: string,
    meta: Meta,
    buf: Buffer,
    opts: WriteOptions,
  ): Promise<'same' | boolean> {
    const pinned = await this.pin(name)
    if (!pinned) return false
    try {
      const { st } = pinned
      if (st.isSymbolicLink() && opts.replaceSymlink) return true
      if (!st.isFile())
        throw this.refuse(name, `is ${typeName(st.mode)}, expected a regular file`, EXPECT_FILE_HINT)
      const sameMeta = st.uid === meta.uid && st.gid === meta.gid && (st.mode & 0o7777) === meta.mode
      if (
        sameMeta &&
        st.size === buf.length &&
        (await readPinned(pinned, buf.length, this.childPath(name))).equals(buf)
      )
        return 'same'
      return true
    } finally {
      await pinned.fh.close()
    }
  }

  private async createTemp(name: string): Promise<{ tmp: string; fh: FileHandle }> {
    const tmp = tempName(name)
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW
    // 0600 from the first byte: a secret is never readable by others, even before the chmod.
    return { tmp, fh: await open(procPath(this.fd, tmp), flags, 0o600) }
  }

  private async install(tmp: string, fh: FileHandle, name: string, meta: Meta): Promise<void> {
    try {
      // chown before chmod: chown clears setuid/setgid bits a mode may ask for.
      await fh.chown(meta.uid, meta.gid)
      await fh.chmod(meta.mode)
      await fh.sync()
    } catch (e) {
      await fh.close()
      await this.remove(tmp)
      throw e
    }
    await fh.close()
    try {
      await rename(procPath(this.fd, tmp), procPath(this.fd, name))
    } catch (e) {
      await this.remove(tmp)
      const code = errno(e)
      if (code === 'EISDIR' || code === 'ENOTEMPTY' || code === 'EEXIST')
        throw this.refuse(name, 'is a directory, expected a regular file', EXPECT_DIR_HINT)
      throw e
    }
    await this.syncDir()
  }

  private async syncDir(): Promise<void> {
    let fh: FileHandle | undefined
    try {
      fh = await open(procPath(this.fd), constants.O_RDONLY | constants.O_DIRECTORY)
      await fh.sync()
    } catch (e) {
      // Durability only: a directory this account may not read is still written correctly.
      if (errno(e) !== 'EACCES') throw e
    } finally {
      await fh?.close()
    }
  }
}

function tempName(name: string): string {
  return `.${name.slice(0, 200)}.xoa-${randomBytes(4).toString('hex')}`
}

/** Read a pinned regular file through its own magic link (the same inode), at most max+1 bytes. */
async function readPinned(pinned: Pinned, max: number, where: string): Promise<Buffer> {
  const fh = await open(procPath(pinned.fh.fd), constants.O_RDONLY | constants.O_NONBLOCK)
  try {
    const st = await fh.stat()
    if (st.ino !== pinned.st.ino || st.dev !== pinned.st.dev)
      throw new UnsafePathError(where, 'changed while read')
    if (!Number.isFinite(max)) return await fh.readFile()
    const buf = Buffer.alloc(max + 1)
    let n = 0
    for (let r = 1; r > 0 && n < buf.length; n += r) r = (await fh.read(buf, n, buf.length - n, n)).bytesRead
    if (n > max) throw new UnsafePathError(where, `grew past ${max} bytes while read`)
    return buf.subarray(0, n)
  } finally {
    await fh.close()
  }
}

async function closeAll(dirs: SafeDir[]): Promise<void> {
  for (const d of dirs) await d.close().catch(() => undefined)
}
