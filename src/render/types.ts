// What every renderer produces: whole files, with the owner and mode they must have on disk.
import { DEFAULT_PLATFORM } from '../platform/load.ts'
import type { Platform } from '../platform/platform.ts'

/** How apply must check a file before installing it. */
export type Validator = 'visudo' | 'systemd-unit' | 'sshd' | 'toml' | 'redis'

export interface RenderedFile {
  /** Absolute path on the target host (apply prefixes --root). */
  path: string
  content: string
  /** Octal mode, e.g. 0o644. */
  mode: number
  owner: string
  group: string
  validate?: Validator
  /** Contains a secret: never printed in a plan diff. */
  secret?: boolean
}

/** Facts renderers need that are not in the spec: how to call xoa itself on the host. */
export interface RenderEnv {
  /** The command that runs xoa on the host, e.g. ['/usr/local/bin/xoa'] or a Nix store path. */
  xoaCommand: string[]
  /** Where the spec lives on the host, passed to xoa by the units. */
  specPath: string
  /** Where the tools live on the host (docs/platform.md): ExecStart=, shells, sudo rules, PATH. */
  platform: Platform
}

export const DEFAULT_RENDER_ENV: RenderEnv = {
  xoaCommand: ['/usr/local/bin/xoa'],
  specPath: '/etc/xoa/xoa.toml',
  platform: DEFAULT_PLATFORM,
}

/** The system config directory of xo-server; app-conf hard-codes /etc/<app>. */
export const XO_CONFIG_DIR = '/etc/xo-server'
