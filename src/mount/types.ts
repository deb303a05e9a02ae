// The vocabulary of the mount broker: what the shim forwards, what the policy decides, what the daemon runs.

/** What `sudo` was asked to run: its argv after "sudo" and the only two variables the shim forwards. */
export interface MountRequest {
  argv: string[]
  env: Record<string, string>
}

/** Where and for whom mounts happen; built from the spec once at daemon start. */
export interface PolicyContext {
  /** xo.mountsDir: every mount point is a direct child of it. */
  mountsDir: string
  /** xo.dataDir: images may also live below it. */
  dataDir: string
  /** Service account ids, forced as CIFS uid/gid. */
  uid: number
  gid: number
  /** Absolute paths of the tools, never looked up through the caller's PATH. */
  tools: ToolPaths
  /** mounts.maxImageMounts: at most this many vhdimount servers at a time (default 8). */
  maxImageMounts?: number
}

export type Tool = 'mount' | 'umount' | 'findmnt' | 'vhdimount' | 'vhdiinfo'
export type ToolPaths = Record<Tool, string>

/**
 * A path the daemon must open and check before running the tool, and hand to the tool as an inherited
 * file descriptor (`/proc/self/fd/<childFd>` in argv), so a swap after the check changes nothing.
 */
export type Pin =
  /** A direct child of mountsDir that is a directory, not a symlink and not already a mount point. */
  | { kind: 'mountPoint'; name: string; childFd: number }
  /** A direct child of mountsDir that currently is a mount point (for umount); mountsDir is what is held. */
  | { kind: 'mounted'; name: string; childFd: number }
  /** A regular, singly linked file below mountsDir or dataDir, reached without any symlink. */
  | { kind: 'image'; path: string; childFd: number }

export interface ExecPlan {
  /** Absolute path of the tool. */
  file: string
  argv: string[]
  /** The complete environment of the tool: nothing is inherited. */
  env: Record<string, string>
  pins: Pin[]
}

export type Decision = { allow: true; exec: ExecPlan } | { allow: false; reason: string }

/** The fixed environment every tool runs with; the caller's PATH, LD_PRELOAD… never reach it. */
export const FIXED_ENV: Readonly<Record<string, string>> = {
  PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
  LANG: 'C',
}

/** The path a pinned descriptor has inside the tool's process. */
export const fdPath = (childFd: number): string => `/proc/self/fd/${childFd}`
