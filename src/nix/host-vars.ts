// What `xoa init` writes: hosts/<host>/vars.nix for the flake's example host, or an xoa.toml elsewhere.
// Pure: values in, file text out; the values are checked by the spec schema so a bad key fails before writing.
import { stringify } from 'smol-toml'
import { SpecError, validateSpec } from '../spec/load.ts'

export interface HostVars {
  hostname: string
  timezone: string
  sshKeys: string[]
}

const TIMEZONE = /^[A-Za-z0-9_+-]+(\/[A-Za-z0-9_+-]+)*$/

/** Problems with the values, as "field: reason" lines; empty when they can be written. */
export function checkHostVars(v: HostVars): string[] {
  const problems: string[] = []
  if (!TIMEZONE.test(v.timezone))
    problems.push(`--timezone: not a time zone name like Europe/Paris (got "${v.timezone}")`)
  try {
    validateSpec({ xo: { hostname: v.hostname }, admin: { authorizedKeys: v.sshKeys } }, 'init')
  } catch (e) {
    if (!(e instanceof SpecError)) throw e
    for (const p of e.problems)
      problems.push(`${p.field.startsWith('xo.hostname') ? '--hostname' : '--ssh-key'}: ${p.message}`)
  }
  return problems
}

/** A Nix string literal: escapes what Nix would interpret (backslash, quote, interpolation). */
export function nixString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\$\{/g, '\\${')}"`
}

export function renderVarsNix(v: HostVars): string {
  const keys =
    v.sshKeys.length === 0 ? '[ ]' : `[\n${v.sshKeys.map((k) => `    ${nixString(k)}\n`).join('')}  ]`
  return `# Per-host values, written by \`xoa init\`. Everything else is in ./default.nix.
{
  hostname = ${nixString(v.hostname)};
  timezone = ${nixString(v.timezone)};
  # Public keys allowed to log in as the SSH-only admin \`xoa\` (password login is off).
  adminSshKeys = ${keys};
  # null: DHCP on every interface. Or a static address:
  # network = { interface = "ens3"; address = "192.0.2.10"; prefixLength = 24; gateway = "192.0.2.1"; dns = [ "192.0.2.1" ]; };
  network = null;
}
`
}

export function renderXoaToml(v: HostVars): string {
  const body = stringify({ xo: { hostname: v.hostname }, admin: { authorizedKeys: v.sshKeys } })
  return `# xoa.toml written by \`xoa init\`; every other key has its default (see \`xoa validate --json\`).
# Time zone ${v.timezone} is the machine's business on this host (timedatectl set-timezone).
${body}
`
}
