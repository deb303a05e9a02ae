// Upstream channels. Xen Orchestra has no release tags: a release is a master commit titled
// `feat: release X.Y.Z (#PR)`, and CHANGELOG.md marks which release each channel points at. So:
// latest = the newest release commit, stable = the release marked stable at the tip, master = the tip.
import { XoaError } from '../util/errors.ts'
import { type ChangelogSection, channelMarkedIn, parseChangelog } from './changelog.ts'
import type { CommitInfo, GitMirror } from './mirror.ts'

export const CHANNELS = ['latest', 'stable', 'master'] as const
export type Channel = (typeof CHANNELS)[number]

/** What a channel (or --rev) resolves to. */
export interface Target {
  /** The channel, or `rev` when a revision was asked for. */
  channel: Channel | 'rev'
  rev: string
  /** X.Y.Z for a release commit; X.Y.Z-dev for a commit after release X.Y.Z (as the builder names it). */
  version: string
  date: string
  subject: string
}

/** For `git log -E --grep`; parseReleaseSubject below is the exact test. */
export const RELEASE_GREP = '^feat: release '

/**
 * The version a release commit announces, else undefined. Upstream's titles vary a little over the years
 * ("feat: release 6.7.1 (#10229)", "feat: release XO 6.3.2 (#9676)", "feat: release  5.113.1 (#9263)").
 */
export function parseReleaseSubject(subject: string): string | undefined {
  return /^feat: release +(?:XO +)?v?(\d+\.\d+\.\d+)(?:\s|$)/.exec(subject)?.[1]
}

export interface ReleaseCommit extends CommitInfo {
  version: string
}

/** The release commits among `commits` (newest first in, newest first out). */
export function releaseCommits(commits: CommitInfo[]): ReleaseCommit[] {
  return commits.flatMap((c) => {
    const version = parseReleaseSubject(c.subject)
    return version ? [{ ...c, version }] : []
  })
}

/**
 * The newest release commit. Not the highest version: upstream's history also holds "feat: release 7.79.2"
 * (2023, another product's numbering) long before 6.x, so only commit order is reliable.
 */
export function pickLatest(releases: ReleaseCommit[]): ReleaseCommit | undefined {
  return releases[0]
}

/** The newest release commit of `version` (upstream once committed "release 6.1.2" twice; the second shipped). */
export function releaseOf(releases: ReleaseCommit[], version: string): ReleaseCommit | undefined {
  return releases.find((r) => r.version === version)
}

/** The version of an arbitrary commit from the nearest release at or before it. */
export function versionAt(nearest: ReleaseCommit | undefined, rev: string): string {
  if (!nearest) return '0.0.0-dev'
  return nearest.rev === rev ? nearest.version : `${nearest.version}-dev`
}

/** The branch that is upstream's tip: master, or main for a fork that renamed it. */
export async function tipBranch(mirror: GitMirror): Promise<string> {
  for (const b of ['master', 'main'])
    if (
      await mirror.resolve(`refs/heads/${b}`).then(
        () => true,
        () => false,
      )
    )
      return `refs/heads/${b}`
  throw new XoaError('the upstream repository has neither a master nor a main branch', {
    hint: 'check source.url in the spec (or url in the pin file)',
  })
}

/** Everything channel resolution needs from the mirror, read once. */
export interface UpstreamView {
  tip: CommitInfo
  /** Release commits reachable from the tip, newest first. */
  releases: ReleaseCommit[]
  changelog: ChangelogSection[]
}

export async function readUpstream(mirror: GitMirror): Promise<UpstreamView> {
  const branch = await tipBranch(mirror)
  const tip = await mirror.commitInfo(branch)
  const releases = releaseCommits(await mirror.logMatching([tip.rev], RELEASE_GREP))
  const text = (await mirror.readFiles(tip.rev, ['CHANGELOG.md'])).get('CHANGELOG.md') ?? ''
  return { tip, releases, changelog: parseChangelog(text) }
}

/** Pure: a channel → its target in this view of upstream. */
export function resolveChannel(view: UpstreamView, channel: Channel): Target {
  if (channel === 'master') {
    const nearest = view.releases[0]
    return { channel, ...view.tip, version: versionAt(nearest, view.tip.rev) }
  }
  const release =
    channel === 'latest' ? pickLatest(view.releases) : stableRelease(view.changelog, view.releases)
  if (!release)
    throw new XoaError(
      channel === 'latest'
        ? 'upstream has no release commit ("feat: release X.Y.Z") on its master branch'
        : 'CHANGELOG.md at the tip marks no release as stable, or that release has no release commit',
      { hint: 'pick another channel (--channel latest|stable|master) or a revision (--rev)' },
    )
  const { version, ...commit } = release
  return { channel, ...commit, version }
}

function stableRelease(changelog: ChangelogSection[], releases: ReleaseCommit[]): ReleaseCommit | undefined {
  const version = channelMarkedIn(changelog, 'stable')
  return version ? releaseOf(releases, version) : undefined
}

/** A revision given by the user (id, branch or tag): its commit and the version the history gives it. */
export async function resolveRev(mirror: GitMirror, view: UpstreamView, rev: string): Promise<Target> {
  const full = await mirror.resolve(rev).catch(() => {
    throw new XoaError(`upstream has no commit or ref ${rev}`, {
      hint: 'give a commit id (7–40 hex digits) or a branch name of the upstream repository',
    })
  })
  const info = await mirror.commitInfo(full)
  const known = view.releases.find((r) => r.rev === full)
  const nearest = known ?? releaseCommits(await mirror.logMatching(['-n', '20', full], RELEASE_GREP))[0]
  return { channel: 'rev', ...info, version: versionAt(nearest, full) }
}
