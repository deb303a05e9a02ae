// `xoa update`'s engine: fetch upstream, resolve the channel (or a revision), and describe the move from the
// pinned commit to the new one — versions, the commits between, the changelog sections between.
import { accessSync, constants, existsSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { statePaths } from '../spec/paths.ts'
import type { Spec } from '../spec/schema.ts'
import { UsageError, XoaError } from '../util/errors.ts'
import {
  type ChangelogSection,
  capCommits,
  parseChangelog,
  sectionsBetween,
  unreleasedEntries,
} from './changelog.ts'
import { type Channel, readUpstream, resolveChannel, resolveRev, type Target, versionAt } from './channels.ts'
import { type CommitInfo, GitMirror, type LogFn } from './mirror.ts'
import { findPinFile, type Pin, readPin } from './pin.ts'

export interface UpdateOptions {
  channel?: Channel
  rev?: string
  /**
   * Only compare (`xoa update --check`): a spec that pins `source.rev` is then compared with the channel
   * instead of refused — moving the pin would change nothing, but the user still wants to know.
   */
  check?: boolean
  pinFile?: string
  /** Commits listed before "… and N more". */
  maxCommits?: number
  log?: LogFn
}

export type Direction = 'up-to-date' | 'forward' | 'backward' | 'sideways'

export interface UpdateReport {
  pinFile: string
  pin: Pin
  url: string
  channel: Channel | 'rev'
  from: { rev: string; version: string; date: string }
  to: Target
  direction: Direction
  /** forward: new commits; backward: the commits left behind; sideways: the commits of the new line. */
  commits: CommitInfo[]
  moreCommits: number
  /** Changelog sections after `from` up to `to` (backward: the ones left behind), highest first. */
  changelog: ChangelogSection[]
  /** What CHANGELOG.unreleased.md lists at `to` when `to` is not a release (master). */
  unreleased: string
  /** What `from` is: the pin file's rev, or the spec's `source.rev` (which overrides the pin). */
  pinnedBy: 'pin' | 'source.rev'
}

/** The mirror `xoa update` uses: the state dir's when we may write there, else the user's cache. */
export function mirrorDirFor(spec: Spec): string {
  const own = statePaths(spec).mirror
  let dir = dirname(own)
  while (!existsSync(dir)) dir = dirname(dir)
  try {
    accessSync(dir, constants.W_OK)
    return own
  } catch {
    // A developer running `nix run .#update-xo` in a checkout has no /var/lib/xo of their own.
    const cache = process.env.XDG_CACHE_HOME || join(homedir(), '.cache')
    return join(cache, 'xoa', 'xen-orchestra.git')
  }
}

/** The pin file `xoa update` rewrites: --pin-file, else the spec's source.pinFile, else the shipped one. */
export function pinFileFor(spec: Spec, override?: string): string {
  return override ?? findPinFile(spec)
}

export async function planUpdate(spec: Spec, opts: UpdateOptions = {}): Promise<UpdateReport> {
  // The spec's source.rev overrides the pin (the builder builds it): it is what the channel is compared with.
  const specRev = opts.pinFile ? undefined : spec.source.rev
  if (specRev && !opts.check)
    throw new UsageError(
      `source.rev in the spec (${specRev}) overrides the pin, so updating the pin would change nothing`,
      'remove source.rev from the spec to follow a channel, change source.rev itself, or only compare: xoa update --check',
    )
  const pinFile = pinFileFor(spec, opts.pinFile)
  const pin = readPin(pinFile)
  const url = spec.source.url ?? pin.url
  const mirror = new GitMirror(mirrorDirFor(spec), opts.log)
  await mirror.ensure(url)
  await mirror.fetch(opts.rev ?? specRev).catch((e: Error) => {
    throw new XoaError(`cannot fetch ${url}: ${e.message}`, {
      hint: 'check the network and the url in the pin file (or source.url in the spec)',
    })
  })
  const view = await readUpstream(mirror)
  const channel = opts.channel ?? spec.updates.channel
  const to = opts.rev ? await resolveRev(mirror, view, opts.rev) : resolveChannel(view, channel)

  // From: the pin's rev (its recorded version and date first), or source.rev resolved in the mirror.
  const fromTarget = specRev ? await resolveRev(mirror, view, specRev) : undefined
  const fromRev = fromTarget?.rev ?? pin.rev
  const known = await mirror.hasCommit(fromRev)
  const fromInfo = known && !fromTarget ? await mirror.commitInfo(fromRev) : undefined
  const fromVersion =
    fromTarget?.version ??
    pin.version ??
    (known ? (await resolveRev(mirror, view, fromRev)).version : versionAt(undefined, fromRev))
  const from = {
    rev: fromRev,
    version: fromVersion,
    date: fromTarget?.date ?? pin.date ?? fromInfo?.date ?? '',
  }

  const direction: Direction =
    to.rev === from.rev
      ? 'up-to-date'
      : !known
        ? 'sideways'
        : (await mirror.isAncestor(from.rev, to.rev))
          ? 'forward'
          : (await mirror.isAncestor(to.rev, from.rev))
            ? 'backward'
            : 'sideways'

  let commits: CommitInfo[] = []
  if (known && direction !== 'up-to-date')
    commits =
      direction === 'backward'
        ? await mirror.logRange(to.rev, from.rev)
        : await mirror.logRange(from.rev, to.rev)
  const { shown, more } = capCommits(commits, opts.maxCommits ?? 20)

  const files = await mirror.readFiles(direction === 'backward' ? from.rev : to.rev, [
    'CHANGELOG.md',
    'CHANGELOG.unreleased.md',
  ])
  const sections = parseChangelog(files.get('CHANGELOG.md') ?? '')
  const changelog =
    direction === 'up-to-date'
      ? []
      : direction === 'backward'
        ? sectionsBetween(sections, to.version, from.version)
        : sectionsBetween(sections, from.version, to.version)
  const unreleased =
    direction !== 'up-to-date' && direction !== 'backward' && to.version.endsWith('-dev')
      ? unreleasedEntries(files.get('CHANGELOG.unreleased.md') ?? '')
      : ''
  return {
    pinFile,
    pin,
    url,
    channel: to.channel,
    from,
    to,
    direction,
    commits: shown,
    moreCommits: more,
    changelog,
    unreleased,
    pinnedBy: specRev ? 'source.rev' : 'pin',
  }
}

/** The pin after the update: same url, the new commit, its version and date, the channel followed. */
export function nextPin(report: Pick<UpdateReport, 'pin' | 'to'>): Pin {
  const { pin, to } = report
  return {
    ...pin,
    rev: to.rev,
    version: to.version,
    date: to.date,
    // A revision asked for by hand follows no channel; the key is then dropped from the file.
    channel: to.channel === 'rev' ? undefined : to.channel,
  }
}

/** The commit message of the pin change, e.g. "xo: 6.6.2 → 6.7.1 (latest)". */
export function commitMessage(report: Pick<UpdateReport, 'from' | 'to'>): string {
  const why = report.to.channel === 'rev' ? `rev ${report.to.rev.slice(0, 10)}` : report.to.channel
  return `xo: ${report.from.version} → ${report.to.version} (${why})`
}
