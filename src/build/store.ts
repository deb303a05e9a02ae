// The release store: immutable release dirs, `current`/`previous` symlinks switched atomically, a lock so
// two builds never race, retention, and removal of what killed builds left behind.
import {
  closeSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeSync,
} from 'node:fs'
import { basename, join, resolve } from 'node:path'
import { XoaError } from '../cli/errors.ts'
import type { statePaths } from '../spec/paths.ts'
import { pidAlive } from './runtime.ts'

export type StatePaths = ReturnType<typeof statePaths>

export interface Manifest {
  id: string
  version: string
  rev: string
  url: string
  buildKey: string
  node: string
  yarn: string
  docs: boolean
  jobs: number
  heapMb: number
  builder: number
  startedAt: string
  endedAt: string
  durationMs: number
  sizeBytes: number
}

export interface Release {
  id: string
  dir: string
  manifest: Manifest
  current: boolean
  previous: boolean
}

/** A release is complete when its manifest exists: it is written last, before the rename into place. */
export function readManifest(dir: string): Manifest | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest
  } catch {
    return undefined
  }
}

function linkTarget(link: string): string | undefined {
  try {
    return basename(readlinkSync(link))
  } catch {
    return undefined
  }
}

export function currentId(paths: StatePaths): string | undefined {
  return linkTarget(paths.current)
}

export function previousId(paths: StatePaths): string | undefined {
  return linkTarget(paths.previous)
}

/** Complete releases, newest build first. */
export function listReleases(paths: StatePaths): Release[] {
  if (!existsSync(paths.releases)) return []
  const cur = currentId(paths)
  const prev = previousId(paths)
  return readdirSync(paths.releases)
    .filter((n) => !n.startsWith('.'))
    .flatMap((id) => {
      const dir = join(paths.releases, id)
      const manifest = readManifest(dir)
      return manifest ? [{ id, dir, manifest, current: id === cur, previous: id === prev }] : []
    })
    .sort((a, b) => b.manifest.endedAt.localeCompare(a.manifest.endedAt))
}

/** Point `link` at releases/<id> atomically: a symlink under a temp name, renamed over the old one. */
function setLink(link: string, id: string): void {
  const tmp = `${link}.tmp-${process.pid}`
  rmSync(tmp, { force: true })
  symlinkSync(join('releases', id), tmp)
  renameSync(tmp, link)
}

/**
 * Make `id` current; the release current until now becomes previous. The one place that switches, so a
 * health-gated switch can wrap it.
 */
export function switchTo(paths: StatePaths, id: string): { from?: string; to: string } {
  if (!readManifest(join(paths.releases, id)))
    throw new XoaError(`no complete release ${id}`, { hint: 'run `xoa releases` to see the ones there are' })
  const from = currentId(paths)
  if (from === id) return { from, to: id }
  if (from) setLink(paths.previous, from)
  setLink(paths.current, id)
  return { from, to: id }
}

/** Roll back to `id`, or to previous when no id is given; the release left becomes previous. */
export function rollback(paths: StatePaths, id?: string): { from?: string; to: string } {
  const target = id ?? previousId(paths)
  if (!target)
    throw new XoaError('there is no previous release to roll back to', {
      hint: 'run `xoa releases` and pass an ID: xoa rollback ID',
    })
  if (target === currentId(paths)) throw new XoaError(`${target} is already current`)
  return switchTo(paths, target)
}

/** Pure: which releases retention removes. Keeps current, previous and the `keep` newest others. */
export function releasesToPrune(releases: Release[], keep: number): Release[] {
  return releases.filter((r) => !r.current && !r.previous).slice(keep)
}

/** Delete releases: renamed aside first, so a half-deleted one never looks complete. */
export function removeRelease(paths: StatePaths, id: string): void {
  const dir = join(paths.releases, id)
  const trash = join(paths.releases, `.trash-${id}-${process.pid}`)
  renameSync(dir, trash)
  rmSync(trash, { recursive: true, force: true })
}

/** Under the lock every temp or trash dir is debris of a build that did not finish. */
export function removeDebris(paths: StatePaths): string[] {
  if (!existsSync(paths.releases)) return []
  const gone: string[] = []
  for (const n of readdirSync(paths.releases)) {
    if (!/^\.(tmp|trash)-/.test(n)) continue
    rmSync(join(paths.releases, n), { recursive: true, force: true })
    gone.push(n)
  }
  for (const link of [paths.current, paths.previous]) {
    const tmp = `${link}.tmp-`
    for (const n of readdirSync(paths.state)) {
      const p = join(paths.state, n)
      if (p.startsWith(tmp)) rmSync(p, { force: true })
    }
  }
  return gone
}

export interface Lock {
  release(): void
}

/** An exclusive lock on the release store; a lock left by a dead process is taken over. */
export function lockStore(paths: StatePaths): Lock {
  mkdirSync(paths.releases, { recursive: true })
  const lock = join(paths.releases, '.lock')
  const mine = `${lock}.${process.pid}`
  const fd = openSync(mine, 'w', 0o644)
  writeSync(fd, `${process.pid}\n`)
  closeSync(fd)
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        linkSync(mine, lock) // atomic: fails if someone holds the lock
        let held = true
        return {
          release() {
            if (!held) return
            held = false
            if (Number(readFileSync(lock, 'utf8')) === process.pid) unlinkSync(lock)
          },
        }
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
        const holder = Number(readFileSync(lock, 'utf8').trim())
        if (holder && pidAlive(holder) && holder !== process.pid)
          throw new XoaError(`another build or switch is running (pid ${holder})`, {
            hint: `wait for it, or if pid ${holder} is not xoa, remove ${lock}`,
          })
        unlinkSync(lock)
      }
    }
    throw new XoaError(`could not take the lock ${lock}`, { hint: 'run the command again' })
  } finally {
    unlinkSync(mine)
  }
}

/** Is `p` an existing symlink (even dangling)? */
export function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink()
  } catch {
    return false
  }
}

export function releaseDir(paths: StatePaths, id: string): string {
  return resolve(paths.releases, id)
}
