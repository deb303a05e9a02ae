// A platform: where each tool xoa runs (or names in a rendered file) lives on one kind of host. Debian, NixOS and
// a container image differ only here, so no other module spells a tool's path (docs/platform.md).
import { z } from 'zod'
import { XoaError } from '../util/errors.ts'
import { DEBIAN_PATH } from './debian.ts'

/** Every tool the engine runs or a renderer names, by the name a platform file keys it with. */
export const TOOLS = [
  // Run by the engine as root, or as the service account through setpriv.
  'setpriv',
  'script',
  'redis-server',
  'systemctl',
  'journalctl',
  'systemd-analyze',
  'useradd',
  'groupadd',
  'usermod',
  'visudo',
  'ssh-keygen',
  'sshd',
  'dpkg-query',
  'apt-get',
  'git',
  'tar',
  'unshare',
  // Run by the mount broker, or allowed by the sudo-mode rules (xo-server runs them through sudo).
  'sudo',
  'mount',
  'umount',
  'findmnt',
  'mount.nfs',
  'mount.nfs4',
  'mount.cifs',
  'vhdimount',
  'vhdiinfo',
  // Login shells of the accounts apply creates.
  'nologin',
  'bash',
] as const

export type ToolName = (typeof TOOLS)[number]

/** What xo-server runs by name, through its PATH (directly, or through sudo in mounts.mode = "sudo"). */
export const SERVER_TOOLS = [
  'sudo',
  'mount',
  'umount',
  'findmnt',
  'mount.nfs',
  'mount.nfs4',
  'mount.cifs',
  'vhdimount',
  'vhdiinfo',
] as const satisfies readonly ToolName[]

const absolute = z
  .string()
  .refine((p) => p.startsWith('/'), 'must be an absolute path')
  .refine(
    (p) => !p.split('/').includes('..') && !/[\s:"'\\\0]/.test(p),
    'must not contain "..", spaces, ":", quotes or "\\"',
  )

const toolNames = new Set<string>(TOOLS)

/** The JSON form of a platform (a file, or a built-in). A file may name a subset of the tools. */
export const platformSchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9-]*$/, 'lower-case letters, digits and "-"'),
  tools: z.record(z.string(), absolute).superRefine((tools, ctx) => {
    for (const k of Object.keys(tools))
      if (!toolNames.has(k))
        ctx.addIssue({
          code: 'custom',
          path: [k],
          message: `unknown tool "${k}" (known: ${TOOLS.join(', ')})`,
        })
  }),
  /** Directories xo-server and the tools search after the tools' own (the rest of a service's PATH). */
  path: z.array(absolute).optional(),
})

export interface Platform {
  name: string
  tools: Partial<Record<ToolName, string>>
  path?: string[]
  /** The file it was read from; undefined for a built-in. */
  file?: string
}

/** Where the platform came from, for messages: `debian` or `nixos (/etc/xoa/platform.json)`. */
export function describePlatform(p: Platform): string {
  return p.file ? `${p.name} (${p.file})` : p.name
}

/** The path of `tool` on this platform; a platform that does not name it is a clear error. */
export function toolPath(p: Platform, tool: ToolName): string {
  const path = p.tools[tool]
  if (path === undefined)
    throw new XoaError(`platform ${describePlatform(p)} names no path for the tool "${tool}"`, {
      hint: p.file
        ? `add "${tool}" to "tools" in ${p.file} (docs/platform.md lists every tool xoa needs)`
        : 'this is a bug in xoa: a built-in platform must name every tool',
    })
  return path
}

/**
 * xo-server's PATH (and its sudo rules' secure_path): the platform's PATH, after the directories of the tools
 * xo-server runs by name that are not on it, in SERVER_TOOLS order — so `sudo` and `mount` resolve to the
 * files the platform names, which are the files the sudo rules allow. (Debian: its PATH holds them all.)
 */
export function servicePath(p: Platform): string[] {
  const rest = p.path ?? DEBIAN_PATH
  const own: string[] = []
  for (const t of SERVER_TOOLS) {
    const path = p.tools[t]
    if (path === undefined) continue
    const dir = path.slice(0, path.lastIndexOf('/')) || '/'
    if (!rest.includes(dir) && !own.includes(dir)) own.push(dir)
  }
  return [...own, ...rest]
}
