// `xoa update`'s engine: fetch upstream, resolve the channel (or a revision), and describe the move from the
// pinned commit to the new one — versions, the commits between, the changelog sections between.
import { accessSync, constants, existsSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { UsageError, XoaError } from '../cli/errors.ts'
import { statePaths } from '../spec/paths.ts'
import type { Spec } from '../spec/schema.ts'
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
  if (spec.source.rev && !opts.pinFile)
    throw new UsageError(
      `source.rev in the spec (${spec.source.rev}) overrides the pin, so updating the pin would change nothing`,
      'remove source.rev from the spec to follow a channel, or change source.rev itself',
    )
  const pinFile = pinFileFor(spec, opts.pinFile)
  const pin = readPin(pinFile)
  const url = spec.source.url ?? pin.url
  const mirror = new GitMirror(mirrorDirFor(spec), opts.log)
  await mirror.ensure(url)
  await mirror.fetch(opts.rev).catch((e: Error) => {
    throw new XoaError(`cannot fetch ${url}: ${e.message}`, {
      hint: 'check the network and the url in the pin file (or source.url in the spec)',
    })
  })
  const view = await readUpstream(mirror)
  const channel = opts.channel ?? spec.updates.channel
  const to = opts.rev ? await resolveRev(mirror, view, opts.rev) : resolveChannel(view, channel)

  const known = await mirror.hasCommit(pin.rev)
  const fromInfo = known ? await mirror.commitInfo(pin.rev) : undefined
  const fromVersion =
    pin.version ?? (known ? (await resolveRev(mirror, view, pin.rev)).version : versionAt(undefined, pin.rev))
  const from = { rev: pin.rev, version: fromVersion, date: pin.date ?? fromInfo?.date ?? '' }

  const direction: Direction =
    to.rev === pin.rev
      ? 'up-to-date'
      : !known
        ? 'sideways'
        : (await mirror.isAncestor(pin.rev, to.rev))
          ? 'forward'
          : (await mirror.isAncestor(to.rev, pin.rev))
            ? 'backward'
            : 'sideways'

  let commits: CommitInfo[] = []
  if (known && direction !== 'up-to-date')
    commits =
      direction === 'backward'
        ? await mirror.logRange(to.rev, pin.rev)
        : await mirror.logRange(pin.rev, to.rev)
  const { shown, more } = capCommits(commits, opts.maxCommits ?? 20)

  const files = await mirror.readFiles(direction === 'backward' ? pin.rev : to.rev, [
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
