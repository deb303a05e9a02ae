// The host as doctor and status see it: every fixed path (/etc/xo-server, /dev/fuse, the spec's dirs) is read
// through a root prefix, so tests build broken hosts in temp dirs and check them exactly as a live one.
import { accessSync, constants, lstatSync, readFileSync } from 'node:fs'
import { delimiter, join, resolve } from 'node:path'
import { readAccounts } from '../plan/accounts.ts'
import { statePaths } from '../spec/paths.ts'
import type { Spec } from '../spec/schema.ts'

export interface HostView {
  /** "/" for the live host, else the prefix every absolute path is read under. */
  root: string
  live: boolean
  /** An absolute path of the target as seen from here. */
  path(p: string): string
}

export function hostView(root = '/'): HostView {
  const r = resolve(root)
  const live = r === '/'
  return { root: r, live, path: (p) => (live ? p : join(r, p)) }
}

export interface PathFacts {
  type: 'file' | 'dir' | 'symlink' | 'socket' | 'other'
  /** Permission bits, e.g. 0o640. */
  mode: number
  uid: number
  gid: number
}

/** lstat of a target path; undefined when it does not exist. Never follows a symlink. */
export function pathFacts(host: HostView, p: string): PathFacts | undefined {
  try {
    const st = lstatSync(host.path(p))
    const type = st.isSymbolicLink()
      ? 'symlink'
      : st.isDirectory()
        ? 'dir'
        : st.isFile()
          ? 'file'
          : st.isSocket()
            ? 'socket'
            : 'other'
    return { type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid }
  } catch {
    return undefined
  }
}

export function readText(host: HostView, p: string): string | undefined {
  try {
    return readFileSync(host.path(p), 'utf8')
  } catch {
    return undefined
  }
}

export function exists(host: HostView, p: string): boolean {
  try {
    accessSync(host.path(p), constants.F_OK)
    return true
  } catch {
    return false
  }
}

/** First executable called `cmd` on PATH (the live host's), or undefined. */
export function onPath(
  cmd: string,
  path = process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
): string | undefined {
  for (const dir of [...path.split(delimiter), '/usr/sbin', '/sbin']) {
    if (!dir) continue
    try {
      accessSync(join(dir, cmd), constants.X_OK)
      return join(dir, cmd)
    } catch {}
  }
  return undefined
}

export interface Ids {
  uid: number
  gid: number
}

/** uid of service.user and gid of service.group in the target's /etc/passwd and /etc/group. */
export function serviceIds(host: HostView, spec: Spec): { uid?: number; gid?: number } {
  const a = readAccounts(host.root)
  return { uid: a.users.get(spec.service.user)?.uid, gid: a.groups.get(spec.service.group)?.gid }
}

export const octal = (mode: number) => `0${mode.toString(8).padStart(3, '0')}`

/** statePaths with every path seen through the host's root prefix (for the release store readers). */
export function hostStatePaths(spec: Spec, host: HostView): ReturnType<typeof statePaths> {
  const p = statePaths(spec)
  return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, host.path(v)])) as typeof p
}

/** The spec with the files xo-server and the health check read seen through the root prefix. */
export function hostSpec(spec: Spec, host: HostView): Spec {
  if (host.live) return spec
  const ssl = { ...spec.xo.ssl, key: host.path(spec.xo.ssl.key), cert: host.path(spec.xo.ssl.cert) }
  return { ...spec, xo: { ...spec.xo, ssl } }
}
