// Where things live for one way of running xo-server, built from the spec: the one place that knows it. Status,
// doctor, `xoa up`, upgrade and rollback ask it instead of keeping their own copy of a path.
//
//   systemd     `xoa apply` on Debian/Ubuntu: xo-server's config under /etc/xo-server, redis-xo.conf under /etc/xoa
//   foreground  `xoa up` (containers): everything under the state dir, so a container needs one volume; xo-server
//               finds its config through XDG_CONFIG_HOME=<stateDir>/home/.config
//   nixos       the flake module: /etc/xo-server/config.toml from the store, the units from the module; the
//               secrets xo-bootstrap writes at run time go under the state dir (XDG_CONFIG_HOME), never the store
//
// xo-server reads /etc/xo-server/config.* and then $XDG_CONFIG_HOME/xo-server/config.* (upstream app-conf), so
// which of the two holds xoa's files is the only difference between the modes for its config.
import { join } from 'node:path'
import { REDIS_CONFIG } from '../render/redis.ts'
import { XO_CONFIG_DIR } from '../render/types.ts'
import { XO_SERVER_CONFIG, XO_SERVER_SECRETS } from '../render/xo-server-config.ts'
import { XO_SERVER_ENV_FILE, XO_SERVER_UNIT_FILE } from '../render/xo-server-unit.ts'
import { statePaths } from '../spec/paths.ts'
import type { Spec } from '../spec/schema.ts'

/** Lock file names, taken with takeLock in their directory (build/store.ts, run/upgrade.ts). */
export const STORE_LOCK = '.lock'
export const UPGRADE_LOCK = 'upgrade.lock'

export type RunMode = 'systemd' | 'foreground' | 'nixos'

export { XO_SERVER_UNIT_FILE }
/** Present on every NixOS system (nixos/modules/system/activation). */
export const NIXOS_MARKER = '/etc/NIXOS'

export interface HostLayout {
  mode: RunMode
  /** Where xo-server reads config (its merge order: this dir's config.* after /etc/xo-server's). */
  xoConfigDir: string
  /** The config xoa renders. */
  xoConfig: string
  /** config.z-secrets.toml: the session secret and xo.settings' `{ file }` leaves, written at run time. */
  xoSecrets: string
  /** XDG_CONFIG_HOME given to xo-server (and its tools). */
  xoConfigHome: string
  /** The unit and its environment file; undefined without systemd units. */
  unitFile?: string
  envFile?: string
  redis: { config: string; socket: string; dir: string }
  brokerSocket: string
  data: { data: string; temp: string; mounts: string }
  /** The state dir's parts: releases, current/previous, secrets, logs, backups, caches. */
  state: ReturnType<typeof statePaths>
  locks: {
    /** Builds, switches and rollbacks (link(2) of a pid file). */
    store: string
    /** One `xoa upgrade` at a time. */
    upgrade: string
  }
}

export function hostLayout(spec: Spec, mode: RunMode): HostLayout {
  const state = statePaths(spec)
  const underState = mode === 'foreground'
  const xoConfigDir = underState ? join(state.serverConfigHome, 'xo-server') : XO_CONFIG_DIR
  return {
    mode,
    xoConfigDir,
    xoConfig: underState ? join(xoConfigDir, 'config.toml') : XO_SERVER_CONFIG,
    // /etc/xo-server is the store's on NixOS: xo-server merges $XDG_CONFIG_HOME/xo-server/config.* after it.
    xoSecrets:
      mode === 'systemd'
        ? XO_SERVER_SECRETS
        : join(state.serverConfigHome, 'xo-server', 'config.z-secrets.toml'),
    xoConfigHome: state.serverConfigHome,
    unitFile: underState ? undefined : XO_SERVER_UNIT_FILE,
    envFile: mode === 'systemd' ? XO_SERVER_ENV_FILE : undefined,
    redis: {
      config: underState ? join(state.state, 'up', 'redis-xo.conf') : REDIS_CONFIG,
      socket: spec.redis.socket,
      dir: spec.redis.dir,
    },
    brokerSocket: spec.mounts.brokerSocket,
    data: { data: spec.xo.dataDir, temp: spec.xo.tempDir, mounts: spec.xo.mountsDir },
    state,
    locks: lockFiles(spec),
  }
}

/** The lock files, the same in every mode (all under the state dir). */
export function lockFiles(spec: Spec): HostLayout['locks'] {
  const state = statePaths(spec)
  return { store: join(state.releases, STORE_LOCK), upgrade: join(state.state, UPGRADE_LOCK) }
}

/** Pure: the mode a host runs in, from what is on it (NixOS marker, the unit xoa apply installs). */
export function modeOf(facts: { nixos: boolean; unitInstalled: boolean }): RunMode {
  // `xoa up` on a NixOS machine without the module is the foreground mode like anywhere else.
  if (!facts.unitInstalled) return 'foreground'
  return facts.nixos ? 'nixos' : 'systemd'
}
