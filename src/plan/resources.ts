// What apply converges: a typed list of resources, each with its desired state. A plan is just this list
// compared with the host; nothing here does I/O.
import type { RenderedFile, Validator } from '../render/types.ts'

/** An account id the spec fixes, with the spec field it comes from (named when the host disagrees). */
export interface FixedId {
  id: number
  field: string
}

export interface GroupResource {
  kind: 'group'
  name: string
  system: boolean
  /** The gid to create it with; an existing group with another gid is a conflict. Unset: the next free one. */
  gid?: FixedId
}

export interface UserResource {
  kind: 'user'
  name: string
  system: boolean
  /** Primary group (declared as a group resource before the user). */
  group: string
  /** Supplementary groups, exactly: others are removed by apply. */
  groups: string[]
  home: string
  /** Create the home directory (and copy skel) when the account is created. */
  createHome: boolean
  shell: string
  comment: string
  /** The uid to create it with; an existing user with another uid is a conflict. Unset: the next free one. */
  uid?: FixedId
}

export interface DirResource {
  kind: 'dir'
  path: string
  owner: string
  group: string
  mode: number
}

export interface FileResource {
  kind: 'file'
  file: RenderedFile
}

/** A secret file xoa bootstrap generates or refreshes at run time (src/run/secrets.ts): apply never writes or
 *  reads it; the plan shows it as managed at run time, with its owner and mode. */
export interface SecretResource {
  kind: 'secret'
  path: string
  owner: string
  group: string
  mode: number
  description: string
  /** The user's own file (webAdmin.passwordFile): bootstrap reads it, nothing writes it. */
  declared?: boolean
}

/** A file seeded once when absent, then owned by another command (e.g. the host pin `xoa update` rewrites). */
export interface SeedResource {
  kind: 'seed'
  path: string
  owner: string
  group: string
  mode: number
  description: string
  validate?: Validator
  /** Called by apply only when the file is absent; the result is written and forgotten. */
  generate(): string
}

export interface SymlinkResource {
  kind: 'symlink'
  path: string
  target: string
}

/** A Debian package; installed on a live host only. */
export interface PackageResource {
  kind: 'package'
  name: string
}

export interface UnitResource {
  kind: 'unit'
  /** Full unit name, e.g. "xo-server.service". */
  name: string
  enable: boolean
  /** Start it when it is not running (live systemd host only). */
  start: boolean
  /** Files whose change restarts the unit when it is running (its unit file, drop-ins, configs). */
  inputs: string[]
}

export type Resource =
  | GroupResource
  | UserResource
  | DirResource
  | FileResource
  | SecretResource
  | SeedResource
  | SymlinkResource
  | PackageResource
  | UnitResource

export type ResourceKind = Resource['kind']

/** The order apply walks: what a later kind needs exists before it (groups before users before dirs…). */
export const KIND_ORDER: ResourceKind[] = [
  'package',
  'group',
  'user',
  'dir',
  'file',
  'secret',
  'seed',
  'symlink',
  'unit',
]

/** The name a resource is shown and addressed by: its path, or its account/package/unit name. */
export function resourceName(r: Resource): string {
  switch (r.kind) {
    case 'file':
      return r.file.path
    case 'dir':
    case 'secret':
    case 'seed':
    case 'symlink':
      return r.path
    default:
      return r.name
  }
}

export function resourceId(r: Resource): string {
  return `${r.kind} ${resourceName(r)}`
}

export function octal(mode: number): string {
  return `0${(mode & 0o7777).toString(8).padStart(3, '0')}`
}
