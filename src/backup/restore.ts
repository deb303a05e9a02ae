// `xoa restore`: verify everything first — the archive's signature under this host's backup key before tar
// reads a byte, then every member against the signed manifest (names, types, sizes, bounded by the free
// space, before extraction; sha256 after), then every Redis payload against this Redis — and only then stop
// xo-server, restore Redis in one all-or-nothing script, put the files back through directory descriptors
// with xoa's own owners and modes, start xo-server and check its health.
import {
  closeSync,
  fstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statfsSync,
} from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { statePaths } from '../spec/paths.ts'
import type { Spec } from '../spec/schema.ts'
import { XoaError } from '../util/errors.ts'
import { authenticatedCopy, extractArchive, listArchive, type Member } from './archive.ts'
import { openSectionRoot, placeEntries, replaceContent, sha256File } from './files.ts'
import {
  archivePathOf,
  type BackupManifest,
  MANIFEST_FILE,
  ManifestSchema,
  REDIS_FILE,
  specHash,
} from './format.ts'
import { adoptKey, BACKUP_KEY_FILE, existingHostKey, hostKeyPath } from './key-file.ts'
import { assertBackupsOutsideData, owners, restoredDirs, runMode } from './locations.ts'
import { parseSnapshot, probeRedis, type RedisSnapshot, restoreRedis } from './redis-snapshot.ts'
import { sectionRules } from './rules.ts'
import type { ServiceControl } from './services.ts'

/** A manifest is small; anything bigger is not one xoa wrote. */
const MAX_MANIFEST_BYTES = 64 << 20

export interface VerifiedBackup {
  file: string
  manifest: BackupManifest
  snapshot: RedisSnapshot
  /** The unpacked archive (a root-only dir under <stateDir>/backups); call dispose() when done. */
  staging: string
  dispose(): void
  /** The spec differs from the one the backup was made with (restoring is still allowed). */
  specChanged: boolean
  /** The key came from --key: the host adopts it after the restore if it has none. */
  givenKey?: Buffer
}

export interface VerifyOptions {
  /** A copy of the backup key of the host that made the archive (`xoa restore --key FILE`). */
  key?: Buffer
}

/** Authenticate, then unpack into a private dir and check every member. Throws before anything changes. */
export async function verifyBackup(
  spec: Spec,
  file: string,
  opts: VerifyOptions = {},
): Promise<VerifiedBackup> {
  const key = opts.key ?? existingHostKey(spec)
  if (!key)
    throw new XoaError(`this host has no backup key (${hostKeyPath(spec)}), so no archive can be verified`, {
      hint: `on a new host, pass the old host's key: xoa restore ${file} --key FILE (a copy of its ${BACKUP_KEY_FILE})`,
    })
  const work = statePaths(spec).backups
  assertBackupsOutsideData(spec, work)
  mkdirSync(dirname(work), { recursive: true })
  mkdirSync(work, { recursive: true, mode: 0o700 })
  assertPrivate(work)
  const staging = mkdtempSync(join(work, '.xoa-restore-staging-'))
  const dispose = () => rmSync(staging, { recursive: true, force: true })
  const bad = (why: string) =>
    new XoaError(`${file} failed verification: ${why}; nothing was changed`, {
      hint: 'restore another archive, or make a fresh one with xoa backup',
    })
  try {
    const copy = join(staging, 'archive.tar.gz')
    authenticatedCopy(file, copy, key)
    const tree = join(staging, 'tree')
    mkdirSync(tree, { mode: 0o700 })
    const { members, streamBytes } = await listArchive(copy, file)
    const manifestMember = members.find((m) => m.name === MANIFEST_FILE && m.type === 'file')
    if (!manifestMember || manifestMember.size > MAX_MANIFEST_BYTES)
      throw bad(`${MANIFEST_FILE} is missing or too large`)
    await extractArchive(copy, tree, file, [manifestMember.raw])
    let manifest: BackupManifest
    try {
      manifest = ManifestSchema.parse(JSON.parse(readFileSync(join(tree, MANIFEST_FILE), 'utf8')))
    } catch (e) {
      throw bad(`${MANIFEST_FILE} is invalid (${(e as Error).message.split('\n')[0]})`)
    }
    const expected = expectedMembers(manifest)
    checkMembers(members, expected, bad)
    // What unpacking writes at most: the tar stream (holes are not in it), or every size when tar does not say.
    const total = streamBytes ?? members.reduce((n, m) => n + m.size, 0)
    const fs = statfsSync(staging)
    const free = fs.bavail * fs.bsize
    if (total > free)
      throw new XoaError(`${file} unpacks to ${total} bytes; ${work} has ${free} free. Nothing was changed`, {
        hint: `free space under ${work}, then run xoa restore again`,
      })
    await extractArchive(copy, tree, file)
    rmSync(copy)
    for (const member of listFiles(tree)) {
      if (member === MANIFEST_FILE) continue
      const want = expected.files.get(member)
      if (!want) throw bad(`${member} is not listed in the manifest`)
      if (sha256File(join(tree, member)) !== want.sha256) throw bad(`${member} does not match its checksum`)
    }
    const snapshot = parseSnapshot(readFileSync(join(tree, REDIS_FILE), 'utf8'))
    await probeRedis(spec.redis.socket, snapshot).catch((e: Error) => {
      throw new XoaError(`this Redis (${spec.redis.socket}) cannot take the backup's data: ${e.message}`, {
        hint: 'is redis-xo running, and at least as new as the Redis the backup came from?',
      })
    })
    return {
      file,
      manifest,
      snapshot,
      staging: tree,
      dispose,
      specChanged: manifest.specHash !== specHash(spec),
      givenKey: opts.key,
    }
  } catch (e) {
    dispose()
    throw e
  }
}

/** The staging dir must be root's own: restore's whole point is that no one else can touch what it stages. */
function assertPrivate(dir: string): void {
  const fd = openSync(dir, 'r')
  try {
    const st = fstatSync(fd)
    if (st.uid !== process.getuid?.() || (st.mode & 0o077) !== 0)
      throw new XoaError(
        `${dir} must be private (owner ${process.getuid?.()}, mode 0700) to stage a restore`,
        {
          hint: `chown root:root ${dir} && chmod 0700 ${dir}`,
        },
      )
  } finally {
    closeSync(fd)
  }
}

function expectedMembers(m: BackupManifest) {
  const files = new Map<string, { sha256: string; size: number }>([
    [REDIS_FILE, { sha256: m.redis.sha256, size: m.redis.size }],
  ])
  const dirs = new Set<string>()
  const addParents = (p: string) => {
    for (let d = dirname(p); d !== '.'; d = dirname(d)) dirs.add(d)
  }
  for (const e of m.files) {
    const p = archivePathOf(e)
    if (e.type === 'file') files.set(p, { sha256: e.sha256, size: e.size })
    else dirs.add(p)
    addParents(p)
  }
  for (const s of Object.keys(m.roots)) dirs.add(`files/${s}`)
  if (m.files.length > 0 || Object.keys(m.roots).length > 0) dirs.add('files')
  return { files, dirs }
}

/** Before extraction: exactly the manifest's members, each of the type and size it says. */
function checkMembers(
  members: Member[],
  expected: ReturnType<typeof expectedMembers>,
  bad: (w: string) => Error,
) {
  const seen = new Set<string>()
  for (const m of members) {
    if (seen.has(m.name)) throw bad(`${m.name} appears twice`)
    seen.add(m.name)
    if (m.name === MANIFEST_FILE) continue
    if (m.type === 'dir') {
      if (!expected.dirs.has(m.name)) throw bad(`${m.name}/ is not listed in the manifest`)
      continue
    }
    const want = expected.files.get(m.name)
    if (!want) throw bad(`${m.name} is not listed in the manifest`)
    if (want.size !== m.size) throw bad(`${m.name} is ${m.size} bytes, the manifest says ${want.size}`)
  }
  for (const name of expected.files.keys())
    if (!seen.has(name)) throw bad(`${name} is missing from the archive`)
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
  /** With --key: whether this host took that key as its own (it had none) or kept its own. */
  key?: 'adopted' | 'kept'
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
  const mode = runMode()
  const dirs = restoredDirs(spec, mode)
  const who = await owners(spec)
  const of = (s: 'config' | 'secrets' | 'data') =>
    v.manifest.files.filter((f) => f.section === s && !(s === 'secrets' && f.path === BACKUP_KEY_FILE))
  const wasActive = await opts.services.isActive()
  await opts.services.stop()
  let keys: number
  try {
    keys = await restoreRedis(spec.redis.socket, v.snapshot)
  } catch (e) {
    if (wasActive) await opts.services.start()
    throw new XoaError(`restoring Redis failed, nothing was changed: ${(e as Error).message}`, {
      hint: 'check redis-xo (systemctl status redis-xo) and run xoa restore again',
    })
  }
  try {
    for (const s of ['config', 'secrets', 'data'] as const) {
      if (!v.manifest.roots[s]?.present) continue
      const rules = sectionRules(s, mode, who)
      const fd = openSectionRoot(dirs[s], rules.root)
      try {
        if (s === 'data') replaceContent(fd, of(s), v.staging, rules)
        else placeEntries(fd, of(s), v.staging, rules)
      } finally {
        closeSync(fd)
      }
    }
  } catch (e) {
    throw new XoaError(`Redis was restored but putting the files back failed: ${(e as Error).message}`, {
      hint: `fix the cause, then run xoa restore ${v.file} --yes again (xo-server stays stopped)`,
    })
  }
  const key = v.givenKey ? adoptKey(spec, v.givenKey) : undefined
  const files = v.manifest.files.filter((f) => f.type === 'file' && f.section !== 'pin').length
  if (!opts.services.manages) {
    return { keys, files, key, health: { checked: false, why: `service control: ${opts.services.name}` } }
  }
  await opts.services.start()
  const h = await opts.checkHealth()
  return { keys, files, key, health: { checked: true, healthy: h.healthy, reason: h.reason } }
}
