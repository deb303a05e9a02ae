// Workspace globs as yarn 1 uses them: "*" is one path segment, "**" any number.
export function minimatch(path: string, glob: string): boolean {
  const re = glob
    .split('/')
    .map((seg) => (seg === '**' ? '.*' : seg.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')))
    .join('/')
  return new RegExp(`^${re}$`).test(path)
}
