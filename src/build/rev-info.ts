// What a build needs to know about a revision before building it: its version, yarn.lock hash and Node major.
// Cached per commit id (immutable), so an up-to-date check needs no git at all.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { self, writeFileAt } from '../fs/at.ts'
import { parseReleaseSubject } from '../source/channels.ts'
import type { GitMirror } from '../source/mirror.ts'
import type { Pin } from '../source/pin.ts'
import { ciNodeVersions, enginesNode, nodeMajorFor, workspaceManifests } from './engines.ts'
import { sha256 } from './key.ts'

export interface RevInfo {
  rev: string
  /** From the nearest release commit ("feat: release X.Y.Z"): X.Y.Z, or X.Y.Z-dev after it. */
  version: string
  lockHash: string
  nodeMajor: number
  nodeRanges: string[]
}

// The same release titles the channels recognise ("release XO 6.3.2", a doubled space), in git's ERE.
const RELEASE_SUBJECT = '^feat: release +(XO +)?v?[0-9]+\\.[0-9]+\\.[0-9]+'

export function revInfoFile(cacheDir: string, rev: string): string {
  return join(cacheDir, 'revs', `${rev}.json`)
}

export function cachedRevInfo(cacheDir: string, rev: string): RevInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(revInfoFile(cacheDir, rev), 'utf8')) as RevInfo
    return info.rev === rev ? info : undefined
  } catch {
    return undefined
  }
}

export async function revInfo(mirror: GitMirror, cacheDir: string, rev: string): Promise<RevInfo> {
  const cached = cachedRevInfo(cacheDir, rev)
  if (cached) return cached
  const files = await mirror.listFiles(rev)
  const workflows = files.filter((f) => /^\.github\/workflows\/[^/]+\.ya?ml$/.test(f))
  const root = await mirror.readFiles(rev, ['package.json', 'yarn.lock', ...workflows])
  const rootPkg = JSON.parse(root.get('package.json') ?? '{}') as { workspaces?: unknown }
  const manifests = await mirror.readFiles(rev, workspaceManifests(rootPkg, files))
  const nodeRanges = [root.get('package.json'), ...manifests.values()]
    .map((t) => (t ? enginesNode(t) : undefined))
    .filter((r): r is string => r !== undefined)
  for (const w of workflows) nodeRanges.push(...ciNodeVersions(root.get(w) ?? ''))
  const release = await mirror.lastMatching(rev, RELEASE_SUBJECT)
  const number = release ? parseReleaseSubject(release[1]) : undefined
  const info: RevInfo = {
    rev,
    version: number ? (release?.[0] === rev ? number : `${number}-dev`) : '0.0.0-dev',
    lockHash: sha256(root.get('yarn.lock') ?? ''),
    nodeMajor: nodeMajorFor(nodeRanges),
    nodeRanges: [...new Set(nodeRanges)].sort(),
  }
  await writeFileAt(revInfoFile(cacheDir, rev), JSON.stringify(info, null, 2), self(0o644), {
    create: self(0o755),
  })
  return info
}

/** The pin names the version of its own commit; otherwise trust what the history says. */
export function versionOf(info: RevInfo, pin: Pin): string {
  return info.rev === pin.rev && pin.version ? pin.version : info.version
}
