// The Node major a revision needs, from what it declares: workspace `engines.node` and the CI's node-version.
import { minimatch } from './glob.ts'

/** XO needs Node 22 (yarn refuses 20 because of @xen-orchestra/disk-cli); never provision older. */
export const NODE_MAJOR_FLOOR = 22

/** The lowest major a semver range accepts (">=22.12" → 22, "^20 || >=22" → 20, "<23" → undefined). */
export function lowestMajor(range: string): number | undefined {
  let best: number | undefined
  for (const alt of range.split('||')) {
    let lower: number | undefined
    for (const m of alt.matchAll(/(>=|<=|>|<|\^|~|=)?\s*v?(\d+)(?:\.(?:\d+|x|\*))*(?:-[\w.]+)?/g)) {
      if (m[1] === '<' || m[1] === '<=') continue
      lower = Math.max(lower ?? 0, Number(m[2]))
    }
    if (lower === undefined) return undefined // this alternative accepts any version
    best = best === undefined ? lower : Math.min(best, lower)
  }
  return best
}

/** The major satisfying every declared range's lower bound, at least the floor. */
export function nodeMajorFor(ranges: string[], floor = NODE_MAJOR_FLOOR): number {
  return ranges.reduce((acc, r) => Math.max(acc, lowestMajor(r) ?? 0), floor)
}

/** package.json paths of the workspaces declared by the root package.json. */
export function workspaceManifests(rootPkg: { workspaces?: unknown }, files: string[]): string[] {
  const ws = rootPkg.workspaces
  const patterns = Array.isArray(ws)
    ? ws
    : ws && typeof ws === 'object' && Array.isArray((ws as { packages?: unknown }).packages)
      ? (ws as { packages: unknown[] }).packages
      : []
  const globs = patterns.filter((p): p is string => typeof p === 'string').map((p) => `${p}/package.json`)
  return files.filter((f) => globs.some((g) => minimatch(f, g)))
}

/** node-version values in GitHub workflow files (`node-version: '>=22.12'`). */
export function ciNodeVersions(workflowText: string): string[] {
  return [...workflowText.matchAll(/node-version:\s*['"]?([^'"\n#]+)/g)]
    .map((m) => m[1]!.trim())
    .filter((v) => !v.startsWith('$'))
}

export function enginesNode(pkgText: string): string | undefined {
  try {
    const node = (JSON.parse(pkgText) as { engines?: { node?: unknown } }).engines?.node
    return typeof node === 'string' ? node : undefined
  } catch {
    return undefined
  }
}
