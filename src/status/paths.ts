// Old names of the host layout, kept for the modules (backup, restore) that still ask them: every path here
// comes from src/host/layout.ts, the one place that knows where things live. New code asks hostLayout().
import { existsSync } from 'node:fs'
import { hostLayout, modeOf, NIXOS_MARKER, type RunMode, XO_SERVER_UNIT_FILE } from '../host/layout.ts'
import type { Spec } from '../spec/schema.ts'

export { hostSpec, hostStatePaths } from './host.ts'

export type Mode = RunMode

/** The way this host runs xo-server (the unit xoa apply installs; NixOS); `at` maps a host path. */
export function hostMode(at: (path: string) => string = (p) => p): Mode {
  return modeOf({ nixos: existsSync(at(NIXOS_MARKER)), unitInstalled: existsSync(at(XO_SERVER_UNIT_FILE)) })
}

/** The directory xo-server reads xoa's config.toml and session secret from, in `mode`. */
export function serverConfigDir(spec: Spec, mode: Mode): string {
  return hostLayout(spec, mode).xoConfigDir
}

/** xoa's config and secret config (written by xoa bootstrap) for xo-server. */
export function serverConfigFiles(spec: Spec, mode: Mode): { config: string; secrets?: string } {
  const l = hostLayout(spec, mode)
  return { config: l.xoConfig, secrets: l.xoSecrets }
}
