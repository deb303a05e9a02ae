// What a release contains, independent of where it came from: every entry (path, type, mode, size, sha256,
// symlink target) and the digest of that list. A build key names a release's inputs; this names its content,
// so a release carried to another host can be checked byte for byte, and two releases with one id compared.
// Pure: the checks here decide on the list alone, before anything is extracted.
import { createHash } from 'node:crypto'
import { z } from 'zod'
import { RELEASE_ID } from '../build/key.ts'

export const FORMAT = 'xoa-release/1'
/** The archive's first member; every other member is under RELEASE_DIR/. */
export const INDEX_MEMBER = 'xoa-release.json'
export const RELEASE_DIR = 'release'

/** The only modes a release entry may have: what sealing leaves (no setuid/setgid/sticky, no group/other w). */
export const FILE_MODES = [0o644, 0o755] as const
export const DIR_MODE = 0o755

const MAX_COMPONENT = 255
const MAX_PATH = 4096
const MAX_HOPS = 40

const EntrySchema = z.discriminatedUnion('type', [
  z.strictObject({ path: z.string(), type: z.literal('dir'), mode: z.number() }),
  z.strictObject({
    path: z.string(),
    type: z.literal('file'),
    mode: z.number(),
    size: z.number().int().nonnegative(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
  }),
  z.strictObject({ path: z.string(), type: z.literal('symlink'), target: z.string() }),
])
export type Entry = z.infer<typeof EntrySchema>

export const IndexSchema = z.strictObject({
  format: z.literal(FORMAT),
  id: z.string().regex(RELEASE_ID),
  digest: z.string().regex(/^[0-9a-f]{64}$/),
  /** The CPU the release was built for (process.arch): its Node and native modules run only there. */
  arch: z.string(),
  files: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  entries: z.array(EntrySchema),
})
export type Index = z.infer<typeof IndexSchema>

/** The content digest: sha256 over one canonical line per entry, in path order. */
export function contentDigest(entries: Entry[]): string {
  const h = createHash('sha256')
  for (const e of [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    const tail =
      e.type === 'file'
        ? `${e.mode.toString(8)} ${e.size} ${e.sha256}`
        : e.type === 'dir'
          ? e.mode.toString(8)
          : JSON.stringify(e.target)
    h.update(`${e.type} ${JSON.stringify(e.path)} ${tail}\n`)
  }
  return h.digest('hex')
}

export function makeIndex(id: string, entries: Entry[], arch: string = process.arch): Index {
  const files = entries.filter((e) => e.type === 'file')
  return {
    format: FORMAT,
    id,
    digest: contentDigest(entries),
    arch,
    files: files.length,
    bytes: files.reduce((n, f) => n + f.size, 0),
    entries,
  }
}

/** What xoa makes of a mode on disk: the executable bit decides, nothing else survives. */
export function sealedMode(type: 'file' | 'dir', mode: number): number {
  if (type === 'dir') return DIR_MODE
  return (mode & 0o111) !== 0 ? 0o755 : 0o644
}

export class BadContent extends Error {}

/** The components of a relative release path; refuses "", ".", "..", "/" at either end, NUL, overlong. */
export function pathParts(path: string): string[] {
  const parts = path.split('/')
  if (path.length > MAX_PATH) throw new BadContent(`${JSON.stringify(path.slice(0, 80))}…: path too long`)
  for (const p of parts)
    if (p === '' || p === '.' || p === '..' || p.includes('\0') || Buffer.byteLength(p) > MAX_COMPONENT)
      throw new BadContent(
        `${JSON.stringify(path)}: not a plain relative path (empty, ".", ".." or overlong component)`,
      )
  return parts
}

/**
 * Where a symlink at `linkPath` ends up, resolved the way the kernel would inside the release as `byPath`
 * describes it (following symlinks met on the way); throws when any step leaves the release. A component
 * the release does not have is taken as a plain name (the kernel would fail there; nothing can appear later
 * in a sealed release).
 */
function resolveInside(linkPath: string, byPath: Map<string, Entry>): void {
  let hops = 0
  const walk = (dir: string[], target: string): string[] => {
    if (target.startsWith('/')) throw new BadContent(`${linkPath}: symlink to an absolute path (${target})`)
    const at = [...dir]
    const todo = target.split('/').filter((p) => p !== '' && p !== '.')
    for (const name of todo) {
      if (name === '..') {
        if (at.length === 0) throw new BadContent(`${linkPath}: symlink leaves the release`)
        at.pop()
        continue
      }
      at.push(name)
      const e = byPath.get(at.join('/'))
      if (e?.type === 'symlink') {
        if (++hops > MAX_HOPS) throw new BadContent(`${linkPath}: too many levels of symlinks`)
        at.pop()
        const landed = walk(at, e.target)
        at.length = 0
        at.push(...landed)
      }
    }
    return at
  }
  const parts = linkPath.split('/')
  const link = byPath.get(linkPath)
  if (link?.type === 'symlink') walk(parts.slice(0, -1), link.target)
}

export interface Limits {
  maxBytes: number
  maxEntries: number
}

/**
 * Everything an import checks on the index before extracting a byte: its own digest, plain relative
 * unique paths whose parents are directories listed before them, only sealed modes, symlinks that are
 * relative and stay inside the release however they chain, a manifest.json, and the caps.
 */
export function checkIndex(index: Index, limits: Limits): void {
  if (contentDigest(index.entries) !== index.digest)
    throw new BadContent('the index does not match its own digest (altered since it was written)')
  if (index.entries.length > limits.maxEntries)
    throw new BadContent(`${index.entries.length} entries, more than the limit of ${limits.maxEntries}`)
  const files = index.entries.filter((e) => e.type === 'file')
  const bytes = files.reduce((n, f) => n + (f as { size: number }).size, 0)
  if (files.length !== index.files || bytes !== index.bytes)
    throw new BadContent('the index totals do not match its entries')
  if (bytes > limits.maxBytes)
    throw new BadContent(`the release is ${bytes} bytes, more than the limit of ${limits.maxBytes}`)
  const byPath = new Map<string, Entry>()
  for (const e of index.entries) {
    const parts = pathParts(e.path)
    if (byPath.has(e.path)) throw new BadContent(`${e.path} is listed twice`)
    if (parts.length > 1) {
      const parent = byPath.get(parts.slice(0, -1).join('/'))
      if (parent?.type !== 'dir')
        throw new BadContent(`${e.path}: its parent is not a directory listed before it`)
    }
    if (e.type === 'dir' && e.mode !== DIR_MODE)
      throw new BadContent(`${e.path}: directory mode ${e.mode.toString(8)}, a release has only 755`)
    if (e.type === 'file' && !(FILE_MODES as readonly number[]).includes(e.mode))
      throw new BadContent(`${e.path}: file mode ${e.mode.toString(8)}, a release has only 644 or 755`)
    if (e.type === 'symlink' && (e.target === '' || e.target.includes('\0') || e.target.length > MAX_PATH))
      throw new BadContent(`${e.path}: not a usable symlink target`)
    byPath.set(e.path, e)
  }
  for (const e of index.entries) if (e.type === 'symlink') resolveInside(e.path, byPath)
  if (byPath.get('manifest.json')?.type !== 'file') throw new BadContent('there is no manifest.json')
}
