// `xoa releases export`: one release of the store as a gzip'd tar another host can import. Two passes over
// the release through descriptors: the first hashes every file into the index (the archive's first member, so
// an import knows every entry, size and checksum before it extracts anything); the second streams the same
// entries and checks each file again against the index, so the archive is exactly what the index says.
import { createHash, randomBytes } from 'node:crypto'
import {
  closeSync,
  constants,
  createWriteStream,
  fsyncSync,
  linkSync,
  openSync,
  rmSync,
  statSync,
} from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { Readable, type Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGzip } from 'node:zlib'
import { RELEASE_ID } from '../build/key.ts'
import { currentId, readManifest, type StatePaths } from '../build/store.ts'
import { XoaError } from '../util/errors.ts'
import {
  BadContent,
  checkIndex,
  type Entry,
  INDEX_MEMBER,
  type Index,
  makeIndex,
  RELEASE_DIR,
} from './content.ts'
import { END, header, padding } from './tar.ts'
import { chunksOf, openRelease, releaseEntries, walkRelease } from './walk.ts'

export interface ExportResult {
  id: string
  /** The archive's path, or "-" for stdout. */
  file: string
  digest: string
  entries: number
  files: number
  bytes: number
  /** Size of the archive written (not known for stdout). */
  archiveBytes?: number
}

/** The release `ref` names ("current" or an id), checked to be a complete release in the store. */
export function resolveRelease(paths: StatePaths, ref: string): string {
  const id = ref === 'current' ? currentId(paths) : ref
  if (!id) throw new XoaError('there is no current release to export', { hint: 'build one with `xoa build`' })
  if (!RELEASE_ID.test(id) || !readManifest(join(paths.releases, id)))
    throw new XoaError(`no complete release ${id}`, { hint: 'run `xoa releases` to see the ones there are' })
  return id
}

/** The index of a release in the store: what its export would carry, and what an import compares with. */
export function indexOfRelease(paths: StatePaths, id: string): Index {
  const fd = openRelease(join(paths.releases, id))
  try {
    return makeIndex(id, releaseEntries(fd))
  } finally {
    closeSync(fd)
  }
}

function* archiveChunks(rootFd: number, index: Index): Generator<Buffer> {
  const json = Buffer.from(`${JSON.stringify(index)}\n`)
  yield header(INDEX_MEMBER, 'file', 0o644, json.length)
  yield json
  yield padding(json.length)
  const want = new Map(index.entries.map((e) => [e.path, e]))
  for (const item of walkRelease(rootFd)) {
    const e = item.entry
    const name = `${RELEASE_DIR}/${e.path}`
    const listed = want.get(e.path)
    if (!listed || listed.type !== e.type) throw new BadContent(`${e.path} changed during the export`)
    if (e.type === 'dir') yield header(name, 'dir', e.mode, 0)
    else if (e.type === 'symlink') yield header(name, 'symlink', 0o777, 0, e.target)
    else if ('fd' in item) {
      yield header(name, 'file', e.mode, e.size)
      const h = createHash('sha256')
      let size = 0
      for (const c of chunksOf(item.fd)) {
        size += c.length
        if (size > e.size) break
        h.update(c)
        yield Buffer.from(c) // chunksOf reuses its buffer; the stream may hold this one a while
      }
      if (size !== e.size || h.digest('hex') !== (listed as Entry & { type: 'file' }).sha256)
        throw new BadContent(`${e.path} changed during the export`)
      yield padding(e.size)
    }
  }
  yield END
}

/** Write release `id` to `out` (a new file, never replacing one) or to `stdout` when out is "-". */
export async function exportRelease(
  paths: StatePaths,
  id: string,
  out: string,
  stdout: Writable = process.stdout,
): Promise<ExportResult> {
  const rootFd = openRelease(join(paths.releases, id))
  try {
    let index: Index
    try {
      index = makeIndex(id, releaseEntries(rootFd))
      // What import would refuse is refused here, before anything is written.
      checkIndex(index, { maxBytes: Number.MAX_SAFE_INTEGER, maxEntries: Number.MAX_SAFE_INTEGER })
    } catch (e) {
      if (e instanceof BadContent)
        throw new XoaError(`release ${id} cannot be exported: ${e.message}`, {
          hint: 'a release xoa built and sealed has none of this; rebuild it with `xoa build`',
        })
      throw e
    }
    const result = {
      id,
      file: out,
      digest: index.digest,
      entries: index.entries.length,
      files: index.files,
      bytes: index.bytes,
    }
    const source = () => Readable.from(archiveChunks(rootFd, index), { objectMode: false })
    if (out === '-') {
      await pipeline(source(), createGzip({ level: 6 }), stdout, { end: false })
      return result
    }
    return { ...result, file: resolve(out), archiveBytes: await writeNew(resolve(out), source) }
  } catch (e) {
    if (e instanceof BadContent) throw new XoaError(`export of ${id} failed: ${e.message}`)
    throw e
  } finally {
    closeSync(rootFd)
  }
}

/** A temp file next to `target`, filled, synced, then linked to its name (fails if that exists). */
async function writeNew(target: string, source: () => Readable): Promise<number> {
  const tmp = join(dirname(target), `.${basename(target)}.${randomBytes(4).toString('hex')}.tmp`)
  const fd = openSync(
    tmp,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o644,
  )
  try {
    await pipeline(source(), createGzip({ level: 6 }), createWriteStream('', { fd, autoClose: false }))
    fsyncSync(fd)
    try {
      linkSync(tmp, target)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST')
        throw new XoaError(`${target} exists; export never replaces a file`, {
          hint: 'remove it or pass another -o FILE',
        })
      throw e
    }
    return statSync(target).size
  } finally {
    closeSync(fd)
    rmSync(tmp, { force: true })
  }
}
