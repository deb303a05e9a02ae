// The member-by-member half of `xoa releases import`: a TarSink that takes the index (the first member), lets
// the caller check it, then creates each member the index lists — in a root-only staging dir inside the store,
// through directory descriptors, O_NOFOLLOW and O_EXCL, never through a path and never replacing anything —
// refusing on the header (type, mode, size, link target) before any data is read, and checking each file's
// sha256 as it streams.
import { createHash, type Hash, randomBytes } from 'node:crypto'
import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  mkdirSync,
  openSync,
  readSync,
  symlinkSync,
  writeSync,
} from 'node:fs'
import { at, openDirAt, openFileAt } from '../fs/fd-sync.ts'
import {
  BadContent,
  DIR_MODE,
  type Entry,
  INDEX_MEMBER,
  type Index,
  IndexSchema,
  RELEASE_DIR,
} from './content.ts'
import type { MemberHeader, TarSink } from './tar.ts'

/** The index of a real XO release is tens of MB; anything near this is not an index xoa wrote. */
const MAX_INDEX_BYTES = 256 << 20

/** Builds the release in `stagingFd` from the members, as the index allows. */
export class Extractor implements TarSink {
  index: Index | undefined
  private indexParts: Buffer[] | undefined
  private seen = new Set<string>()
  private parent: { path: string; fd: number } | undefined
  private file: { entry: Entry & { type: 'file' }; fd: number; hash: Hash; written: number } | undefined
  private staging: { name: string; fd: number } | undefined

  constructor(
    private readonly releasesFd: number,
    private readonly onIndex: (index: Index) => void,
  ) {}

  get stagingName(): string | undefined {
    return this.staging?.name
  }

  member(h: MemberHeader): void {
    if (!this.index) {
      if (this.indexParts || h.name !== INDEX_MEMBER || h.type !== 'file')
        throw new BadContent(`the first member must be ${INDEX_MEMBER}, found ${JSON.stringify(h.name)}`)
      if (h.size > MAX_INDEX_BYTES) throw new BadContent(`${INDEX_MEMBER} is ${h.size} bytes: too large`)
      this.indexParts = []
      return
    }
    const name = h.name.replace(/^\.\//, '').replace(/\/+$/, '')
    if (h.type !== 'file' && h.size > 0) throw new BadContent(`${name}: a ${h.type} member with data`)
    if (name === RELEASE_DIR && h.type === 'dir') return
    if (!name.startsWith(`${RELEASE_DIR}/`))
      throw new BadContent(`${JSON.stringify(h.name)} is outside ${RELEASE_DIR}/`)
    const path = name.slice(RELEASE_DIR.length + 1)
    const entry = this.entries.get(path)
    if (!entry) throw new BadContent(`${JSON.stringify(path)} is not listed in the index`)
    if (this.seen.has(path)) throw new BadContent(`${path} appears twice`)
    this.seen.add(path)
    if (h.type !== entry.type)
      throw new BadContent(
        `${path} is a ${h.type} member (type ${JSON.stringify(h.flag)}), the index says ${entry.type}`,
      )
    if (entry.type !== 'symlink' && (h.mode & 0o7777) !== entry.mode)
      throw new BadContent(
        `${path} has mode ${(h.mode & 0o7777).toString(8)}, the index says ${entry.mode.toString(8)}`,
      )
    const slash = path.lastIndexOf('/')
    const dirFd = this.parentFd(slash === -1 ? '' : path.slice(0, slash))
    const base = path.slice(slash + 1)
    if (entry.type === 'dir') {
      mkdirSync(at(dirFd, base), { mode: 0o700 })
      const fd = openDirAt(dirFd, base)
      try {
        fchmodSync(fd, DIR_MODE)
      } finally {
        closeSync(fd)
      }
    } else if (entry.type === 'symlink') {
      if (h.linkname !== entry.target)
        throw new BadContent(
          `${path} links to ${JSON.stringify(h.linkname)}, the index says ${JSON.stringify(entry.target)}`,
        )
      symlinkSync(entry.target, at(dirFd, base))
    } else {
      if (h.size !== entry.size)
        throw new BadContent(`${path} is ${h.size} bytes, the index says ${entry.size}`)
      const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = constants
      const fd = openSync(at(dirFd, base), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600)
      this.file = { entry, fd, hash: createHash('sha256'), written: 0 }
    }
  }

  data(chunk: Buffer): void {
    if (this.indexParts && !this.index) {
      this.indexParts.push(Buffer.from(chunk))
      return
    }
    const f = this.file
    if (!f) throw new BadContent('data outside a file member')
    f.hash.update(chunk)
    for (let off = 0; off < chunk.length; )
      off += writeSync(f.fd, chunk, off, chunk.length - off, f.written + off)
    f.written += chunk.length
  }

  end(): void {
    if (this.indexParts && !this.index) {
      this.readIndex(Buffer.concat(this.indexParts))
      this.indexParts = undefined
      return
    }
    const f = this.file
    if (!f) return
    this.file = undefined
    try {
      if (f.written !== f.entry.size || f.hash.digest('hex') !== f.entry.sha256)
        throw new BadContent(`${f.entry.path} does not match its sha256 in the index`)
      fchmodSync(f.fd, f.entry.mode)
    } finally {
      closeSync(f.fd)
    }
  }

  /** After the last member: every listed entry arrived, and the release's own manifest names this id. */
  finish(): void {
    const index = this.index
    if (!index || !this.staging) throw new BadContent(`there is no ${INDEX_MEMBER}`)
    const missing = index.entries.filter((e) => !this.seen.has(e.path))
    if (missing.length > 0)
      throw new BadContent(`${missing.length} listed entries are missing (first: ${missing[0]?.path})`)
    this.closeParent()
    const m = openFileAt(this.staging.fd, 'manifest.json')
    if (m.kind !== 'file') throw new BadContent('manifest.json is not a regular file')
    try {
      const buf = Buffer.alloc(Math.min(m.st.size, 1 << 20))
      readSync(m.fd, buf, 0, buf.length, 0)
      const id = (JSON.parse(buf.toString('utf8')) as { id?: unknown }).id
      if (id !== index.id)
        throw new BadContent(`manifest.json names release ${String(id)}, the index ${index.id}`)
    } catch (e) {
      if (e instanceof SyntaxError) throw new BadContent('manifest.json is not JSON')
      throw e
    } finally {
      closeSync(m.fd)
    }
  }

  /** Close every descriptor (once, however often it is called); the staging dir stays (the caller removes
   *  or renames it). */
  close(): void {
    this.closeParent()
    if (this.file) closeSync(this.file.fd)
    this.file = undefined
    if (this.staging && this.staging.fd >= 0) closeSync(this.staging.fd)
    if (this.staging) this.staging.fd = -1
  }

  private entriesByPath: Map<string, Entry> | undefined
  private get entries(): Map<string, Entry> {
    this.entriesByPath ??= new Map((this.index?.entries ?? []).map((e) => [e.path, e]))
    return this.entriesByPath
  }

  private readIndex(buf: Buffer): void {
    let index: Index
    try {
      index = IndexSchema.parse(JSON.parse(buf.toString('utf8')))
    } catch (e) {
      throw new BadContent(`${INDEX_MEMBER} is not a valid index (${(e as Error).message.split('\n')[0]})`)
    }
    this.onIndex(index) // the caller's checks: caps, digest, free space, what the store has
    const name = `.tmp-import-${process.pid}-${randomBytes(4).toString('hex')}`
    mkdirSync(at(this.releasesFd, name), { mode: 0o700 })
    const fd = openDirAt(this.releasesFd, name)
    this.staging = { name, fd }
    fchownSync(fd, process.geteuid?.() ?? 0, process.getegid?.() ?? 0)
    fchmodSync(fd, 0o700) // root-only while it is filled, whatever the umask or a setgid store dir gave
    this.index = index
  }

  /** The created directory `dir` of the release (walked from the staging root, following nothing). */
  private parentFd(dir: string): number {
    if (!this.staging) throw new BadContent('no staging dir')
    if (dir === '') return this.staging.fd
    if (this.parent?.path === dir) return this.parent.fd
    if (this.entries.get(dir)?.type !== 'dir' || !this.seen.has(dir))
      throw new BadContent(`${dir}/: a member comes before its directory`)
    this.closeParent()
    let fd = this.staging.fd
    for (const name of dir.split('/')) {
      const next = openDirAt(fd, name)
      if (fd !== this.staging.fd) closeSync(fd)
      fd = next
    }
    this.parent = { path: dir, fd }
    return fd
  }

  private closeParent(): void {
    if (this.parent) closeSync(this.parent.fd)
    this.parent = undefined
  }
}
