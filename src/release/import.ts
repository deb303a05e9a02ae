// `xoa releases import`: an extraction boundary (issue 10's rules). The archive is read by xoa's own tar
// parser, never by tar(1): the index (first member) is checked whole before a byte is extracted — its digest,
// paths, modes, symlinks, sizes against the caps and the free space — then every member must be the entry the
// index lists, of its type, mode and size (checked on the header, before its data), and each file's sha256 is
// checked as it streams. Members are created through directory descriptors in a root-only staging dir inside
// the store, only as plain files, directories and the release's own relative symlinks, with xoa's owner and
// modes; nothing is ever opened through a symlink. Only when everything matched is the staging dir renamed to
// the release id: until then nothing is visible, and a failure leaves the store as it was.
import {
  closeSync,
  constants,
  createReadStream,
  fchmodSync,
  fstatSync,
  fsyncSync,
  openSync,
  renameSync,
  statfsSync,
} from 'node:fs'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGunzip } from 'node:zlib'
import { setidFiles } from '../build/setid.ts'
import { type Lock, lockStore, removeDebris, type StatePaths, switchTo } from '../build/store.ts'
import { at, lstatAt, openDirAt, openDirPath, removeAt } from '../fs/fd-sync.ts'
import { procPath } from '../fs/names.ts'
import { XoaError } from '../util/errors.ts'
import { BadContent, checkIndex, DIR_MODE, INDEX_MEMBER, type Index, type Limits } from './content.ts'
import { indexOfRelease } from './export.ts'
import { Extractor } from './extract.ts'
import { TarError, TarReader } from './tar.ts'

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
      if (index.arch !== process.arch)
        throw new BadContent(`it was built for ${index.arch}; this host is ${process.arch}`)
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
