// Syntax of what may be mounted and where: devices per filesystem type, mount points and image paths.
import { isIp } from './options.ts'

const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?'
const DNS = new RegExp(`^(?=.{1,253}$)${LABEL}(?:\\.${LABEL})*\\.?$`)

/** A DNS name, an IPv4 address, or an IPv6 address in brackets (as mount.nfs wants it). */
export function isHost(h: string): boolean {
  if (h.startsWith('[') && h.endsWith(']')) return isIp(h.slice(1, -1)) && h.includes(':')
  return DNS.test(h)
}

/** Remote paths: printable, no whitespace, no option or shell metacharacters. */
const REMOTE_PATH = /^\/[A-Za-z0-9._~+@%=/-]*$/
const SHARE = /^[A-Za-z0-9._~+@%$-]{1,80}$/

export type DeviceResult = { ok: true } | { ok: false; reason: string }

/** NFS: `host:/path` (what upstream's nfs handler builds from the remote URL). */
export function checkNfsDevice(device: string): DeviceResult {
  const m = /^(\[[^\]]*\]|[^:[\]]+):(.*)$/.exec(device)
  if (!m) return { ok: false, reason: `NFS device "${device}" is not host:/path` }
  const [, host, path] = m
  if (!isHost(host!)) return { ok: false, reason: `NFS server "${host}" is not a DNS name or IP address` }
  if (!REMOTE_PATH.test(path!))
    return { ok: false, reason: `NFS export path "${path}" is not an absolute path` }
  return { ok: true }
}

/** CIFS: `//host/share[/path]` or upstream's `//host\share[/path]`. */
export function checkCifsDevice(device: string): DeviceResult {
  const m = /^\/\/([^/\\]+)[/\\]([^/\\]+)(\/.*)?$/.exec(device)
  if (!m) return { ok: false, reason: `CIFS device "${device}" is not //host/share or //host\\share` }
  const [, host, share, path] = m
  if (!isHost(host!)) return { ok: false, reason: `CIFS server "${host}" is not a DNS name or IP address` }
  if (!SHARE.test(share!)) return { ok: false, reason: `CIFS share name "${share}" has forbidden characters` }
  if (path !== undefined && !REMOTE_PATH.test(path))
    return { ok: false, reason: `CIFS path "${path}" has forbidden characters` }
  return { ok: true }
}

export type NameResult = { ok: true; name: string } | { ok: false; reason: string }

/** A mount point must be `<mountsDir>/<name>`, written exactly so (no "..", "//", trailing "/"). */
export function mountPointName(target: string, mountsDir: string): NameResult {
  if (/[\0-\x1f\x7f]/.test(target)) return { ok: false, reason: 'mount point contains a control character' }
  if (target === mountsDir || target === `${mountsDir}/`)
    return { ok: false, reason: `mount point must be a child of ${mountsDir}, not the directory itself` }
  const prefix = mountsDir === '/' ? '/' : `${mountsDir}/`
  if (!target.startsWith(prefix))
    return { ok: false, reason: `mount point ${target} is not under ${mountsDir}` }
  const name = target.slice(prefix.length)
  if (name.includes('/'))
    return { ok: false, reason: `mount point ${target} is not a direct child of ${mountsDir}` }
  if (name === '.' || name === '..')
    return { ok: false, reason: `mount point ${target} is not a direct child` }
  if (!/^[A-Za-z0-9._-]{1,128}$/.test(name))
    return { ok: false, reason: `mount point name "${name}" has forbidden characters` }
  return { ok: true, name }
}

export type ImageResult = { ok: true } | { ok: false; reason: string }

/** An image path: absolute, normalised, strictly below mountsDir or dataDir. The daemon then checks the file. */
export function checkImagePath(path: string, dirs: string[]): ImageResult {
  if (/[\0-\x1f\x7f]/.test(path)) return { ok: false, reason: 'image path contains a control character' }
  if (!path.startsWith('/')) return { ok: false, reason: `image path ${path} is not absolute` }
  const parts = path.split('/').slice(1)
  if (parts.some((p) => p === '' || p === '.' || p === '..'))
    return { ok: false, reason: `image path ${path} is not normalised (empty, "." or ".." component)` }
  if (!dirs.some((d) => path.startsWith(d === '/' ? '/' : `${d}/`)))
    return { ok: false, reason: `image ${path} is not below ${dirs.join(' or ')}` }
  return { ok: true }
}
