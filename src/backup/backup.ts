// `xoa backup`: Redis (one atomic snapshot), xo-server's config dir, the secrets, the pin and the data dir, into
// one 0600 archive signed with the host's backup key; then retention. xo-server is stopped for the snapshot when a ServiceControl manages it, so
// Redis and the data dir are of the same instant (docs/backup.md says exactly what is consistent with what).
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { hostname } from 'node:os'
import { basename, dirname, join, resolve } from 'node:path'
import { statePaths } from '../spec/paths.ts'
import type { Spec } from '../spec/schema.ts'
import { XoaError } from '../util/errors.ts'
import { writeArchive } from './archive.ts'
import { collectFile, collectTree, sha256File } from './files.ts'
import {
  archivesToRemove,
  type BackupManifest,
  type Entry,
  FORMAT,
  MANIFEST_FILE,
  nextArchiveName,
  REDIS_FILE,
  type Section,
  type SectionRoot,
  specHash,
} from './format.ts'
import { BACKUP_KEY_FILE, hostKey } from './key-file.ts'
import { assertBackupsOutsideData, owners, restoredDirs } from './locations.ts'
import { keyCount, saveRedis, serializeSnapshot } from './redis-snapshot.ts'
import type { ServiceControl } from './services.ts'

declare const XOA_VERSION: string | undefined
export const xoaVersion = typeof XOA_VERSION === 'string' ? XOA_VERSION : '0.0.0-dev'

export interface BackupOptions {
  services: ServiceControl
  /** Archive path; default a timestamped name in the state dir's backups directory (and retention runs). */
  out?: string
  /** Don't stop xo-server: the data dir is then copied live (see docs/backup.md). */
  live?: boolean
  now?: Date
}

export interface BackupResult {
  archive: string
  bytes: number
  createdAt: string
  keys: number
  files: number
  consistency: BackupManifest['consistency']
  release: BackupManifest['release']
  removed: string[]
  skipped: string[]
}

export async function createBackup(spec: Spec, opts: BackupOptions): Promise<BackupResult> {
  const paths = statePaths(spec)
  const now = opts.now ?? new Date()
  const out = opts.out ? resolve(opts.out) : undefined
  const dir = out ? dirname(out) : paths.backups
  assertBackupsOutsideData(spec, dir)
  mkdirSync(dirname(paths.backups), { recursive: true }) // the state dir's own mode is apply's business
  mkdirSync(paths.backups, { recursive: true, mode: 0o700 })
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const key = hostKey(spec)
  const { service } = await owners(spec)
  // Staged in root's private backups dir whatever --out says: never in a directory another account can write.
  const staging = mkdtempSync(join(paths.backups, '.xoa-backup-staging-'))
  try {
    const dirs = restoredDirs(spec)
    const roots: Partial<Record<Section, SectionRoot>> = {}
    const files: Entry[] = []
    const skipped: string[] = []
    const take = (section: Section, path: string) => {
      const c = collectTree(section, path, staging, {
        exclude: section === 'secrets' ? [BACKUP_KEY_FILE] : [],
        ownerUid: section === 'data' ? service.uid : undefined,
      })
      roots[section] = c.root
      files.push(...c.entries)
      skipped.push(...c.skipped)
    }

    const wasActive = !opts.live && (await opts.services.isActive())
    if (wasActive) await opts.services.stop()
    let snap: Awaited<ReturnType<typeof saveRedis>>
    try {
      snap = await saveRedis(spec.redis.socket).catch((e: Error) => {
        throw new XoaError(`cannot read Redis at ${spec.redis.socket}: ${e.message}`, {
          hint: 'is redis-xo running? systemctl status redis-xo (check redis.socket in the spec)',
        })
      })
      take('data', dirs.data)
      take('config', dirs.config)
      take('secrets', dirs.secrets)
    } finally {
      if (wasActive) await opts.services.start()
    }

    const release = currentRelease(paths)
    if (release) {
      const cur = join(paths.releases, release.id)
      for (const [src, name] of [
        [join(cur, 'manifest.json'), 'release-manifest.json'],
        [join(cur, 'xo-source.json'), 'xo-source.json'],
      ] as const) {
        const e = collectFile('pin', src, name, staging)
        if (e) files.push(e)
      }
    }

    const redisText = serializeSnapshot(snap)
    writeFileSync(join(staging, REDIS_FILE), redisText, { mode: 0o600 })
    const manifest: BackupManifest = {
      format: FORMAT,
      xoaVersion,
      createdAt: now.toISOString(),
      hostname: hostname(),
      specHash: specHash(spec),
      release,
      consistency: {
        redis: 'atomic',
        files: opts.live ? 'live' : wasActive ? 'service-stopped' : 'service-not-running',
      },
      redis: {
        sha256: sha256File(join(staging, REDIS_FILE)),
        size: Buffer.byteLength(redisText),
        keys: keyCount(snap),
        databases: Object.fromEntries(snap.databases.map((d) => [String(d.db), d.keys.length])),
      },
      roots,
      files,
      skipped,
    }
    writeFileSync(join(staging, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 })

    const written = await placeArchive(staging, out ?? dir, out === undefined, now, key)
    const removed =
      out === undefined ? applyRetention(dir, spec.updates.keepBackups, basename(written.path)) : []
    return {
      archive: written.path,
      bytes: written.bytes,
      createdAt: manifest.createdAt,
      keys: manifest.redis.keys,
      files: files.filter((f) => f.type === 'file').length,
      consistency: manifest.consistency,
      release,
      removed,
      skipped,
    }
  } finally {
    rmSync(staging, { recursive: true, force: true })
  }
}

/**
 * Link into place without replacing anything: `target` itself (--out), or in the default directory a name
 * never used there before (nextArchiveName), chosen again if another backup took it meanwhile.
 */
async function placeArchive(staging: string, target: string, numbered: boolean, now: Date, key: Buffer) {
  for (let tries = 0; tries < 100; tries++) {
    const path = numbered ? join(target, nextArchiveName(readdirSync(target), now)) : target
    try {
      return { path, bytes: await writeArchive(staging, path, key) }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
      if (!numbered)
        throw new XoaError(`${target} already exists`, { hint: 'choose another --out, or remove that file' })
    }
  }
  throw new XoaError(`too many backups made at once in ${target}`)
}

/** Delete xoa-named archives beyond the newest `keep`, never `justWritten`; returns what it removed. */
export function applyRetention(dir: string, keep: number, justWritten?: string): string[] {
  const gone = archivesToRemove(readdirSync(dir), keep, justWritten).map((n) => join(dir, n))
  for (const f of gone) rmSync(f, { force: true })
  return gone
}

/** The release `current` points at, from its manifest.json (written last by the builder). */
function currentRelease(paths: ReturnType<typeof statePaths>): BackupManifest['release'] {
  let id: string
  try {
    id = basename(readlinkSync(paths.current))
  } catch {
    return null
  }
  try {
    const m = JSON.parse(readFileSync(join(paths.releases, id, 'manifest.json'), 'utf8'))
    const str = (v: unknown) => (typeof v === 'string' ? v : '')
    return { id, version: str(m.version), rev: str(m.rev), url: str(m.url) }
  } catch {
    return { id, version: '', rev: '', url: '' }
  }
}
