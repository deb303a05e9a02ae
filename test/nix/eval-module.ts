// Runs test/nix/eval.nix: the xoa NixOS module evaluated by nixpkgs' lib with stubbed NixOS options.
// Opt-in: needs NIXPKGS_LIB (a nixpkgs `lib` directory, e.g. from nix-community/nixpkgs.lib).
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { REPO } from '../helpers.ts'

export const NIXPKGS_LIB = process.env.NIXPKGS_LIB
export const skipNoLib = NIXPKGS_LIB ? false : 'skipped: NIXPKGS_LIB not set'

export const KEY =
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk7cA6O3zCwQ0nqgP3dJ8wYb0WJm0Yq3g1eR8Jx5b2L op@laptop'

type Json = Record<string, any>

export interface Evaluated {
  failedAssertions: string[]
  warnings: string[]
  spec: Json
  specText: string
  options: Json
  users: Json
  groups: string[]
  redis: Json
  openssh: Json
  nginx: Json
  acme: Json
  sudo: { enable: boolean; extraRules: Json[]; extraConfig: string }
  firewallPorts: number[]
  systemPackages: string[]
  etc: Record<string, string>
  variables: Record<string, string>
  services: Json
  sockets: Json
  timers: Json
  tmpfiles: string[]
}

/** Evaluate the module with `xoa.xo` set to the Nix attrset text `xo` (plus enable and an admin key). */
export function evalModule(dir: string, xo = '', name = 'config'): Evaluated {
  const file = join(dir, `${name}.nix`)
  writeFileSync(
    file,
    `{ lib, ... }: { xoa.xo = lib.mkMerge [ { enable = true; admin.authorizedKeys = [ "${KEY}" ]; } { ${xo} } ]; }\n`,
  )
  const r = spawnSync(
    'nix-instantiate',
    [
      '--eval',
      '--strict',
      '--json',
      join(REPO, 'test', 'nix', 'eval.nix'),
      '--argstr',
      'nixpkgsLib',
      NIXPKGS_LIB!,
      '--argstr',
      'configFile',
      file,
    ],
    { encoding: 'utf8' },
  )
  if (r.status !== 0) throw new Error(`nix-instantiate failed for { ${xo} }:\n${r.stderr}`)
  return JSON.parse(r.stdout) as Evaluated
}
