// Choosing the platform: a built-in by name, or a JSON file (NixOS store paths). The engine reads it once, from
// XOA_PLATFORM, which every unit rendered for a non-default platform sets.
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { XoaError } from '../util/errors.ts'
import { CONTAINER } from './container.ts'
import { DEBIAN } from './debian.ts'
import { type Platform, platformSchema } from './platform.ts'

export const BUILT_IN: Readonly<Record<string, Platform>> = { debian: DEBIAN, container: CONTAINER }
export const DEFAULT_PLATFORM = DEBIAN
export const PLATFORM_ENV = 'XOA_PLATFORM'

/** A built-in name, else a file path (made absolute: the units carry it). */
export function loadPlatform(ref: string): Platform {
  const builtIn = BUILT_IN[ref]
  if (builtIn) return builtIn
  if (!ref.includes('/') && !ref.endsWith('.json'))
    throw new XoaError(`unknown platform "${ref}"`, {
      hint: `a built-in (${Object.keys(BUILT_IN).join(', ')}) or the path of a platform file (docs/platform.md)`,
    })
  return readPlatformFile(resolve(ref))
}

/**
 * Root runs what the file names, so read as root it must be root's and writable by root only (a Nix store file is
 * 0444 root). Read by another account (`xoa render` in a Nix build sandbox, where root's files show as the
 * overflow uid) it runs nothing as root: writable by its owner only is enough.
 */
function readPlatformFile(file: string): Platform {
  let text: string
  try {
    const fd = openSync(file, 'r')
    try {
      const st = fstatSync(fd)
      if (!st.isFile()) throw new XoaError(`platform file ${file} is not a regular file`)
      const me = process.geteuid?.() ?? 0
      if ((me === 0 && st.uid !== 0) || (st.mode & 0o022) !== 0)
        throw new XoaError(`platform file ${file} may be changed by someone other than root`, {
          hint: `chown root ${file} && chmod go-w ${file}: root runs the tools it names`,
        })
      text = readFileSync(fd, 'utf8')
    } finally {
      closeSync(fd)
    }
  } catch (e) {
    if (e instanceof XoaError) throw e
    throw new XoaError(`cannot read the platform file ${file}: ${(e as Error).message}`)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    throw new XoaError(`platform file ${file} is not JSON: ${(e as Error).message}`)
  }
  const r = platformSchema.safeParse(json)
  if (!r.success) {
    const first = r.error.issues[0]!
    const where = first.path.length ? first.path.join('.') : '(top level)'
    throw new XoaError(`platform file ${file}: ${where}: ${first.message}`, {
      hint: 'see docs/platform.md for the form',
    })
  }
  return { ...r.data, file }
}

let current: Platform | undefined

/** The platform this process runs on: $XOA_PLATFORM (a built-in name or a file), else Debian. Read once. */
export function currentPlatform(): Platform {
  current ??= process.env[PLATFORM_ENV] ? loadPlatform(process.env[PLATFORM_ENV]) : DEFAULT_PLATFORM
  return current
}

/** Choose the platform for this process (a test; undefined: read $XOA_PLATFORM again when next asked). */
export function setCurrentPlatform(p: Platform | undefined): void {
  current = p
}

/** What a unit sets XOA_PLATFORM to so the engine it runs uses this platform; undefined for the default. */
export function platformRef(p: Platform): string | undefined {
  if (p.file) return p.file
  return p === DEFAULT_PLATFORM ? undefined : p.name
}

/** The environment a child xoa needs to run on this process's platform (for a child given a fixed env). */
export function platformEnv(): Record<string, string> {
  const ref = platformRef(currentPlatform())
  return ref === undefined ? {} : { [PLATFORM_ENV]: ref }
}
