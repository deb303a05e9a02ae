// `xoa restore`: verify everything first (checksums, manifest, every Redis payload accepted by this Redis),
// then stop xo-server, restore Redis in one all-or-nothing script, put the files back atomically, start
// xo-server and check its health. Nothing on the host changes until verification has passed.
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { XoaError } from '../cli/errors.ts'
import { statePaths } from '../spec/paths.ts'
import type { Spec } from '../spec/schema.ts'
import { extractArchive } from './archive.ts'
import { prepareReplace, restoreOverlay, sha256File } from './files.ts'
import {
  archivePathOf,
  type BackupManifest,
  MANIFEST_FILE,
  ManifestSchema,
  REDIS_FILE,
  specHash,
} from './format.ts'
import { assertBackupsOutsideData, restoredDirs } from './locations.ts'
import { parseSnapshot, probeRedis, type RedisSnapshot, restoreRedis } from './redis-snapshot.ts'
import type { ServiceControl } from './services.ts'

export interface VerifiedBackup {
  file: string
  manifest: BackupManifest
  snapshot: RedisSnapshot
  /** The unpacked archive; call dispose() when done. */
  staging: string
  dispose(): void
  /** The spec differs from the one the backup was made with (restoring is still allowed). */
  specChanged: boolean
}

/** Unpack into a private dir and check every member against the manifest. Throws before anything changes. */
export async function verifyBackup(spec: Spec, file: string): Promise<VerifiedBackup> {
  try {
    if (!lstatSync(file).isFile()) throw new Error('not a regular file')
  } catch (e) {
    throw new XoaError(`cannot read the archive ${file}: ${(e as Error).message}`, {
      hint: `ls ${statePaths(spec).backups}`,
    })
  }
  const work = statePaths(spec).backups
  assertBackupsOutsideData(spec, work)
  mkdirSync(dirname(work), { recursive: true })
  mkdirSync(work, { recursive: true, mode: 0o700 })
  const staging = mkdtempSync(join(work, '.xoa-restore-staging-'))
  const dispose = () => rmSync(staging, { recursive: true, force: true })
  const bad = (why: string) =>
    new XoaError(`${file} failed verification: ${why}; nothing was changed`, {
      hint: 'restore another archive, or make a fresh one with xoa backup',
    })
  try {
    await extractArchive(file, staging)
    let manifest: BackupManifest
    try {
      manifest = ManifestSchema.parse(JSON.parse(readFileSync(join(staging, MANIFEST_FILE), 'utf8')))
    } catch (e) {
      throw bad(`${MANIFEST_FILE} is missing or invalid (${(e as Error).message.split('\n')[0]})`)
    }
    const expected = new Map<string, { sha256: string; size: number }>([
      [REDIS_FILE, { sha256: manifest.redis.sha256, size: manifest.redis.size }],
    ])
    for (const e of manifest.files)
      if (e.type === 'file') expected.set(archivePathOf(e), { sha256: e.sha256, size: e.size })
    for (const member of listFiles(staging)) {
      if (member === MANIFEST_FILE) continue
      const want = expected.get(member)
      if (!want) throw bad(`${member} is not listed in the manifest`)
      const path = join(staging, member)
      if (lstatSync(path).size !== want.size || sha256File(path) !== want.sha256)
        throw bad(`${member} does not match its checksum`)
      expected.delete(member)
    }
    const missing = [...expected.keys()]
    if (missing.length > 0) throw bad(`${missing[0]} is missing from the archive`)
    const snapshot = parseSnapshot(readFileSync(join(staging, REDIS_FILE), 'utf8'))
    await probeRedis(spec.redis.socket, snapshot).catch((e: Error) => {
      throw new XoaError(`this Redis (${spec.redis.socket}) cannot take the backup's data: ${e.message}`, {
        hint: 'is redis-xo running, and at least as new as the Redis the backup came from?',
      })
    })
    return { file, manifest, snapshot, staging, dispose, specChanged: manifest.specHash !== specHash(spec) }
  } catch (e) {
    dispose()
    throw e
  }
}

function listFiles(root: string): string[] {
  const out: string[] = []
  const walk = (dir: string) => {
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, d.name)
      if (d.isDirectory()) walk(p)
      else out.push(relative(root, p))
    }
  }
  walk(root)
  return out
}

export interface RestoreResult {
  keys: number
  files: number
  health: { checked: false; why: string } | { checked: true; healthy: boolean; reason?: string }
}

export interface RestoreOptions {
  services: ServiceControl
  /** Runs after xo-server started again; only called when `services` manages it. */
  checkHealth: () => Promise<{ healthy: boolean; reason?: string }>
}

export async function restoreBackup(
  spec: Spec,
  v: VerifiedBackup,
  opts: RestoreOptions,
): Promise<RestoreResult> {
  const dirs = restoredDirs(spec)
  const of = (s: 'config' | 'secrets' | 'data') => v.manifest.files.filter((f) => f.section === s)
  const wasActive = await opts.services.isActive()
  await opts.services.stop()
  let data: { commit(): void; abort(): void } | undefined
  let keys: number
  try {
    const dataRoot = v.manifest.roots.data
    if (dataRoot?.present) data = prepareReplace(dirs.data, dataRoot, of('data'), v.staging)
    keys = await restoreRedis(spec.redis.socket, v.snapshot)
  } catch (e) {
    // Nothing is replaced yet (the new data tree is only staged): put the service back as it was.
    data?.abort()
    if (wasActive) await opts.services.start()
    throw new XoaError(`restoring Redis failed, nothing was changed: ${(e as Error).message}`, {
      hint: 'check redis-xo (systemctl status redis-xo) and run xoa restore again',
    })
  }
  try {
    for (const s of ['config', 'secrets'] as const) {
      const root = v.manifest.roots[s]
      if (root?.present) restoreOverlay(dirs[s], root, of(s), v.staging)
    }
    data?.commit()
  } catch (e) {
    throw new XoaError(`Redis was restored but putting the files back failed: ${(e as Error).message}`, {
      hint: `fix the cause, then run xoa restore ${v.file} --yes again (xo-server stays stopped)`,
    })
  }
  const files = v.manifest.files.filter((f) => f.type === 'file' && f.section !== 'pin').length
  if (!opts.services.manages) {
    return { keys, files, health: { checked: false, why: `service control: ${opts.services.name}` } }
  }
  await opts.services.start()
  const h = await opts.checkHealth()
  return { keys, files, health: { checked: true, healthy: h.healthy, reason: h.reason } }
}
