// `xoa install`: deploy the flake's host on NixOS (the seed's xoa-install.sh), printing the command first.
import { resolve } from 'node:path'
import type { Command } from 'commander'
import { execa } from 'execa'
import { isNixos, rebuildCommand } from '../nix/nixos.ts'
import { UsageError, XoaError } from '../util/errors.ts'
import { say } from './output.ts'

interface InstallOpts {
  host: string
  flake: string
  action: string
  dryRun?: boolean
}

export function register(program: Command): void {
  program
    .command('install')
    .description('deploy on NixOS: sudo nixos-rebuild switch --flake .#<host> -L --show-trace')
    .option('--host <name>', 'flake configuration (nixosConfigurations.<name>)', 'xoa')
    .option('--flake <dir>', 'the flake checkout', '.')
    .option('--action <action>', 'nixos-rebuild action: switch, boot, test, build, dry-activate', 'switch')
    .option('--dry-run', 'print the command without running it')
    .action(async (opts: InstallOpts) => install(opts))
}

async function install(opts: InstallOpts): Promise<void> {
  if (!['switch', 'boot', 'test', 'build', 'dry-activate'].includes(opts.action))
    throw new UsageError(`--action: unknown nixos-rebuild action "${opts.action}"`)
  if (!/^[A-Za-z0-9._-]+$/.test(opts.host))
    throw new UsageError(`--host: not a configuration name: "${opts.host}"`)
  const argv = rebuildCommand(resolve(opts.flake), opts.host, opts.action)
  const root = process.getuid?.() === 0
  const full = root || opts.action === 'build' ? argv : ['sudo', ...argv]
  say(`+ ${full.join(' ')}`)
  if (opts.dryRun) return
  if (!isNixos())
    throw new XoaError('this is not NixOS (no /etc/NIXOS): nixos-rebuild cannot deploy here', {
      hint: 'on Debian/Ubuntu: xoa init --debian && sudo xoa apply --spec xoa.toml',
    })
  const r = await execa(full[0]!, full.slice(1), { stdio: 'inherit', reject: false })
  if (r.exitCode !== 0)
    throw new XoaError(`nixos-rebuild ${opts.action} failed (exit ${r.exitCode})`, {
      hint: `read the trace above; check it with: nix flake check ${resolve(opts.flake)}`,
    })
}
