// `xoa releases import`: an extraction boundary (issue 10's rules). The archive is read by xoa's own tar
// parser, never by tar(1): the index (first member) is checked whole before a byte is extracted — its digest,
// paths, modes, symlinks, sizes against the caps and the free space — then every member must be the entry the
// index lists, of its type, mode and size (checked on the header, before its data), and each file's sha256 is
// checked as it streams. Members are created through directory descriptors in a root-only staging dir inside
// the store, only as plain files, directories and the release's own relative symlinks, with xoa's owner and
// modes; nothing is ever opened through a symlink. Only when everything matched is the staging dir renamed to
// the release id: until then nothing is visible, and a failure leaves the store as it was.
import { createHash, type Hash, randomBytes } from 'node:crypto'
import {
  closeSync,
  constants,
  createReadStream,
  fchmodSync,
  fchownSync,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  statfsSync,
  symlinkSync,
  writeSync,
} from 'node:fs'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGunzip } from 'node:zlib'
import { setidFiles } from '../build/setid.ts'
import { type Lock, lockStore, removeDebris, type StatePaths, switchTo } from '../build/store.ts'
import { at, lstatAt, openDirAt, openDirPath, openFileAt, removeAt } from '../fs/fd-sync.ts'
import { procPath } from '../fs/names.ts'
import { XoaError } from '../util/errors.ts'
import {
  BadContent,
  checkIndex,
  DIR_MODE,
  type Entry,
  INDEX_MEMBER,
  type Index,
  IndexSchema,
  type Limits,
  RELEASE_DIR,
} from './content.ts'
import { indexOfRelease } from './export.ts'
import { type MemberHeader, TarError, TarReader, type TarSink } from './tar.ts'

/** The index of a real XO release is tens of MB; anything near this is not an index xoa wrote. */
const MAX_INDEX_BYTES = 256 << 20
/** What a file system spends on an entry besides its data, for the free-space check. */
const PER_ENTRY_BYTES = 4096

export const DEFAULT_LIMITS: Limits = { maxBytes: 32 * 2 ** 30, maxEntries: 2_000_000 }

export interface ImportOptions {
  /** The content digest the operator expects (printed by the export): anything else is refused. */
  digest?: string
  limits?: Limits
  /** Make the release current once it is in the store. */
  switch?: boolean
}

export interface ImportResult {
  id: string
  /** "imported": now in the store; "present": the store had this release with this very content. */
  status: 'imported' | 'present'
  digest: string
  entries: number
  bytes: number
  switched: boolean
}

/** Thrown from the index check to stop reading: the store has this release with this content. */
class Present extends Error {}

const refused = (file: string, why: string) =>
  new XoaError(`${file} is not imported: ${why}; the store is unchanged`, {
    hint: 'import an archive made by `xoa releases export` (and check that it arrived whole)',
  })

/** The archive's bytes ("-": stdin). */
function openInput(file: string): Readable {
  if (file === '-') return process.stdin
  const fd = openSync(file, constants.O_RDONLY)
  if (fstatSync(fd).isDirectory()) {
    closeSync(fd)
    throw refused(file, 'it is a directory')
  }
  return createReadStream('', { fd })
}

/** The tar stream: gunzipped when the bytes start with gzip's magic, as they are otherwise. */
async function* tarBytes(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const it = source[Symbol.asyncIterator]()
  let head = Buffer.alloc(0)
  let done = false
  while (head.length < 2 && !done) {
    const n = await it.next()
    if (n.done) done = true
    else head = Buffer.concat([head, n.value])
  }
  const all = (async function* () {
    if (head.length > 0) yield head
    if (done) return
    for (let n = await it.next(); !n.done; n = await it.next()) yield n.value
  })()
  if (head[0] !== 0x1f || head[1] !== 0x8b) return yield* all
  const gunzip = createGunzip()
  const bytes = Readable.from(all)
  bytes.once('error', (e) => gunzip.destroy(e))
  yield* bytes.pipe(gunzip)
}

/** Builds the release in `stagingFd` from the members, as the index allows. */
class Extractor implements TarSink {
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

  /** Close every descriptor; the staging dir stays (the caller removes or renames it). */
  close(): void {
    this.closeParent()
    if (this.file) closeSync(this.file.fd)
    this.file = undefined
    if (this.staging) closeSync(this.staging.fd)
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

/** Import `file` ("-": stdin) into the store of `paths`. Throws with the store unchanged on any refusal. */
export async function importRelease(
  paths: StatePaths,
  file: string,
  opts: ImportOptions = {},
): Promise<ImportResult> {
  const limits = opts.limits ?? DEFAULT_LIMITS
  const lock: Lock = await lockStore(paths)
  let releasesFd: number | undefined
  let ex: Extractor | undefined
  try {
    await removeDebris(paths)
    releasesFd = openDirPath(paths.releases)
    const rFd = releasesFd
    let present: Index | undefined
    const onIndex = (index: Index) => {
      checkIndex(index, limits)
      if (opts.digest !== undefined && opts.digest !== index.digest)
        throw new BadContent(`its content digest is ${index.digest}, not the expected ${opts.digest}`)
      const existing = lstatAt(rFd, index.id)
      if (existing) {
        const ours = existing.isDirectory() ? indexOfRelease(paths, index.id).digest : undefined
        if (ours !== index.digest)
          throw new XoaError(
            `release ${index.id} is already in the store with other content (digest ${ours ?? 'none'}, the archive's ${index.digest}); the store is unchanged`,
            {
              hint: `a build key names inputs, not content: keep the release there is, or remove ${join(paths.releases, index.id)} first`,
            },
          )
        present = index
        throw new Present()
      }
      const fs = statfsSync(procPath(rFd))
      const need = index.bytes + index.entries.length * PER_ENTRY_BYTES
      const free = fs.bavail * fs.bsize
      if (need > free)
        throw new XoaError(
          `the release needs about ${need} bytes; ${paths.releases} has ${free} free; the store is unchanged`,
          { hint: `free space under ${paths.releases}, then import again` },
        )
    }
    ex = new Extractor(rFd, onIndex)
    const reader = new TarReader(ex)
    const extractor = ex
    try {
      await pipeline(openInput(file), async (source: AsyncIterable<Buffer>) => {
        for await (const chunk of tarBytes(source)) reader.push(chunk)
        reader.finish()
        extractor.finish()
      })
    } catch (e) {
      if (!(e instanceof Present)) throw e
    }
    if (present) {
      const p: Index = present
      const switched = opts.switch ? (await switchTo(paths, p.id)).from !== p.id : false
      return {
        id: p.id,
        status: 'present',
        digest: p.digest,
        entries: p.entries.length,
        bytes: p.bytes,
        switched,
      }
    }
    const index = ex.index
    if (!index) throw new BadContent(`there is no ${INDEX_MEMBER}`)
    const staging = ex.stagingName as string
    ex.close()
    // Sealed exactly like a build: nothing setuid/setgid can be there (modes were set by xoa), checked anyway.
    const left = await setidFiles(join(paths.releases, staging))
    if (left.length > 0) throw new BadContent(`setuid/setgid bits in the staged release: ${left[0]}`)
    const sfd = openDirAt(rFd, staging)
    try {
      fchmodSync(sfd, DIR_MODE)
      fsyncSync(sfd)
    } finally {
      closeSync(sfd)
    }
    const id = index.id
    if (lstatAt(rFd, id)) throw new BadContent(`release ${id} appeared in the store meanwhile`)
    renameSync(at(rFd, staging), at(rFd, id))
    const d = openSync(procPath(rFd), constants.O_RDONLY | constants.O_DIRECTORY)
    try {
      fsyncSync(d)
    } finally {
      closeSync(d)
    }
    const switched = opts.switch ? (await switchTo(paths, id)).from !== id : false
    return {
      id,
      status: 'imported',
      digest: index.digest,
      entries: index.entries.length,
      bytes: index.bytes,
      switched,
    }
  } catch (e) {
    ex?.close()
    const staging = ex?.stagingName
    if (staging && releasesFd !== undefined && lstatAt(releasesFd, staging)) removeAt(releasesFd, staging)
    if (e instanceof BadContent || e instanceof TarError) throw refused(file, e.message)
    if (
      (e as NodeJS.ErrnoException).code === 'Z_DATA_ERROR' ||
      (e as NodeJS.ErrnoException).code === 'Z_BUF_ERROR'
    )
      throw refused(file, `its gzip stream is damaged or truncated (${(e as Error).message})`)
    throw e
  } finally {
    if (releasesFd !== undefined) closeSync(releasesFd)
    await lock.release()
  }
}
