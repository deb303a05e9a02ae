// Xen Orchestra release versions (X.Y.Z, and X.Y.Z-dev for a commit after release X.Y.Z).

/**
 * Numeric X.Y.Z comparison. A suffix sorts after the plain version: xoa's X.Y.Z-dev names a commit made
 * after release X.Y.Z (not a pre-release of it, as in semver).
 */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const [core = '', pre] = v.split('-', 2)
    return { nums: core.split('.').map((n) => Number.parseInt(n, 10) || 0), pre }
  }
  const x = parse(a)
  const y = parse(b)
  for (let i = 0; i < Math.max(x.nums.length, y.nums.length); i++) {
    const d = (x.nums[i] ?? 0) - (y.nums[i] ?? 0)
    if (d !== 0) return Math.sign(d)
  }
  if (x.pre === y.pre) return 0
  if (x.pre === undefined) return -1
  if (y.pre === undefined) return 1
  return x.pre < y.pre ? -1 : 1
}
