// Runs test/nix/eval.nix: the xoa NixOS module evaluated by nixpkgs' lib with stubbed NixOS options.
// Opt-in: needs NIXPKGS_LIB (a nixpkgs `lib` directory, e.g. from nix-community/nixpkgs.lib).
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { REPO, xoa } from '../helpers.ts'

export const NIXPKGS_LIB = process.env.NIXPKGS_LIB
export const skipNoLib = NIXPKGS_LIB ? false : 'skipped: NIXPKGS_LIB not set'

export const KEY =
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk7cA6O3zCwQ0nqgP3dJ8wYb0WJm0Yq3g1eR8Jx5b2L op@laptop'

type Json = Record<string, any>

interface UnitView {
  enable: boolean
  wantedBy: string[]
  overrideStrategy: string
  /** The directives NixOS writes for this definition (its drop-in for a unit from a package). */
  directives: string[]
}

export interface Evaluated {
  failedAssertions: string[]
  warnings: string[]
  spec: Json
  specText: string
  specFile: string
  platform: { name: string; tools: Record<string, string>; path?: string[] }
  platformText: string
  platformFile: string
  rendered: { path: string; script: string }
  cli: string
  options: Json
  users: Json
  groups: string[]
  openssh: Json
  nginx: Json
  acme: Json
  sudo: { enable: boolean; extraRules: Json[]; extraConfig: string }
  firewallPorts: number[]
  systemPackages: string[]
  etc: Record<string, { source: string; mode: string; user: string; group: string }>
  variables: Record<string, string>
  systemdPackages: string[]
  tmpfilesPackages: string[]
  tmpfiles: string[]
  services: Record<string, UnitView & { environment: Record<string, string>; path: string[] }>
  sockets: Record<string, UnitView>
  timers: Record<string, UnitView>
  allowlist: {
    attributes: Record<string, string>
    environment: Record<string, string>
    builders: string[]
    directives: string[]
  }
}

/**
 * Evaluate the module with `xoa.xo` set to the Nix attrset text `xo` (plus enable and an admin key), and `extra`
 * as more top-level definitions of the configuration.
 */
export function evalModule(dir: string, xo = '', name = 'config', extra = ''): Evaluated {
  const file = join(dir, `${name}.nix`)
  writeFileSync(
    file,
    `{ lib, ... }: { xoa.xo = lib.mkMerge [ { enable = true; admin.authorizedKeys = [ "${KEY}" ]; } { ${xo} } ]; ${extra} }\n`,
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

export interface RenderedJson {
  path: string
  content: string
  mode: string
  owner: string
  group: string
}

/**
 * What the module's render derivation produces: its script must be `xoa render all` of the module's spec with the
 * packaged CLI; the test runs that same render with the bundled CLI (the spec from a temp file, its path then
 * replaced by the store path the units name) and returns the files as `xoa render --json` describes them.
 */
export function renderOf(dir: string, e: Evaluated): RenderedJson[] {
  const xoaBin = `${e.cli}/bin/xoa`
  const line = e.rendered.script.split('\n')[0]!
  const want = `${xoaBin} render all --spec ${e.specFile} --out $out --xoa-command ${xoaBin} --platform ${e.platformFile} > /dev/null`
  if (line !== want) throw new Error(`the render derivation runs\n  ${line}\nnot\n  ${want}`)
  const id = Math.random().toString(36).slice(2)
  const spec = join(dir, `spec-${id}.json`)
  const platform = join(dir, `platform-${id}.json`)
  writeFileSync(spec, e.specText)
  writeFileSync(platform, e.platformText)
  const r = xoa(['render', 'all', '--spec', spec, '--json', '--xoa-command', xoaBin, '--platform', platform])
  if (r.status !== 0) throw new Error(`xoa render failed: ${r.stderr}`)
  return (JSON.parse(r.stdout) as RenderedJson[]).map((f) => ({
    ...f,
    content: f.content.replaceAll(spec, e.specFile).replaceAll(platform, e.platformFile),
  }))
}

/** Units in a render, by name (xo-server.service → its file). */
export function unitsOf(files: RenderedJson[]): Map<string, RenderedJson> {
  return new Map(
    files
      .filter((f) => f.path.startsWith('/etc/systemd/system/'))
      .map((f) => [f.path.slice('/etc/systemd/system/'.length), f]),
  )
}

/** The WantedBy= targets of a unit's [Install] section. */
export function wantedByOf(unit: string): string[] {
  const install = unit.split(/^\[Install\]$/m)[1]?.split(/^\[/m)[0] ?? ''
  return [...install.matchAll(/^WantedBy=(.*)$/gm)].flatMap((m) => m[1]!.split(/\s+/).filter(Boolean))
}
