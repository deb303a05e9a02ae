// The release store: immutable release dirs, `current`/`previous` symlinks switched atomically, a lock so
// two builds never race, retention, and removal of what killed builds left behind.
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { basename, join, resolve } from 'node:path'
import { openLive, self, withParent } from '../fs/at.ts'
import { type Lock, takeLock } from '../fs/lock.ts'
import { STORE_LOCK } from '../host/layout.ts'
import type { statePaths } from '../spec/paths.ts'
import { XoaError } from '../util/errors.ts'

export type { Lock }

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
async function setLink(link: string, id: string): Promise<void> {
  await withParent(link, {}, (dir, name) => dir.symlink(name, join('releases', id)))
}

/**
 * Make `id` current; the release current until now becomes previous. The one place that switches, so a
 * health-gated switch can wrap it.
 */
export async function switchTo(paths: StatePaths, id: string): Promise<{ from?: string; to: string }> {
  if (!readManifest(join(paths.releases, id)))
    throw new XoaError(`no complete release ${id}`, { hint: 'run `xoa releases` to see the ones there are' })
  const from = currentId(paths)
  if (from === id) return { from, to: id }
  if (from) await setLink(paths.previous, from)
  await setLink(paths.current, id)
  return { from, to: id }
}

/** Roll back to `id`, or to previous when no id is given; the release left becomes previous. */
export async function rollback(paths: StatePaths, id?: string): Promise<{ from?: string; to: string }> {
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

/** Delete releases: renamed aside first, so a half-deleted one never looks complete; nothing inside is
 *  followed (the tree was the build account's while it built). */
export async function removeRelease(paths: StatePaths, id: string): Promise<void> {
  const releases = await openLive(paths.releases)
  try {
    const trash = `.trash-${id}-${process.pid}`
    await releases.rename(id, releases, trash)
    await releases.removeTree(trash)
  } finally {
    await releases.close()
  }
}

/** Under the lock every temp or trash dir is debris of a build that did not finish, and so is a temp link
 *  of a switch that was killed (`current.tmp-<pid>` from older xoa, the layer's `.current.xoa-<hex>`). */
export async function removeDebris(paths: StatePaths): Promise<string[]> {
  if (!existsSync(paths.releases)) return []
  const gone: string[] = []
  const releases = await openLive(paths.releases)
  try {
    for (const e of await releases.entries()) {
      if (!/^\.(tmp|trash)-/.test(e.name)) continue
      await releases.removeTree(e.name)
      gone.push(e.name)
    }
  } finally {
    await releases.close()
  }
  const links = [basename(paths.current), basename(paths.previous)]
  const state = await openLive(paths.store)
  try {
    for (const e of await state.entries())
      if (links.some((l) => e.name.startsWith(`${l}.tmp-`) || e.name.startsWith(`.${l}.xoa-`)))
        await state.remove(e.name)
  } finally {
    await state.close()
  }
  return gone
}

/** An exclusive lock on the release store; a lock left by a dead process is taken over. */
export async function lockStore(paths: StatePaths): Promise<Lock> {
  const releases = await openLive(paths.releases, { create: self(0o755) })
  try {
    return await takeLock(releases, STORE_LOCK, {
      busy: (pid, file) =>
        new XoaError(`another build or switch is running (pid ${pid})`, {
          hint: `wait for it, or if pid ${pid} is not xoa, remove ${file}`,
        }),
    })
  } finally {
    await releases.close()
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
