// `xoa init`: the seed's xoa-set-vars.sh. Asks on a TTY or takes flags; writes hosts/<host>/vars.nix and copies
// the hardware configuration (NixOS), or writes an xoa.toml (Debian and other hosts). Never overwrites silently.
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { realpath } from 'node:fs/promises'
import { hostname as osHostname } from 'node:os'
import { basename, join, resolve } from 'node:path'
import { createInterface } from 'node:readline/promises'
import type { Command } from 'commander'
import { self } from '../fs/at.ts'
import { SafeDir } from '../fs/safe-dir.ts'
import { checkHostVars, type HostVars, renderVarsNix, renderXoaToml } from '../nix/host-vars.ts'
import { isNixos } from '../nix/nixos.ts'
import { UsageError, XoaError } from '../util/errors.ts'
import { printJson, say } from './output.ts'

interface InitOpts {
  hostname?: string
  sshKey: string[]
  sshKeyFile: string[]
  timezone?: string
  nixos?: boolean
  debian?: boolean
  host: string
  dir: string
  hardwareConfig: string
  force?: boolean
  json?: boolean
}

const collect = (v: string, prev: string[]) => [...prev, v]

export function register(program: Command): void {
  program
    .command('init')
    .description(
      'write the host variables: hosts/<host>/vars.nix on NixOS, xoa.toml elsewhere (asks on a TTY)',
    )
    .option('--hostname <name>', 'host name (also the certificate name)')
    .option('--ssh-key <key>', 'an admin SSH public key line (repeatable)', collect, [])
    .option(
      '--ssh-key-file <file>',
      'a file of admin SSH public keys, one per line (repeatable)',
      collect,
      [],
    )
    .option('--timezone <tz>', 'time zone, e.g. Europe/Paris (default UTC)')
    .option('--nixos', 'write hosts/<host>/vars.nix (default when /etc/NIXOS exists)')
    .option('--debian', 'write xoa.toml for a Debian/Ubuntu/container host')
    .option('--host <name>', 'host directory under hosts/ and flake configuration name', 'xoa')
    .option('--dir <dir>', 'the flake checkout (NixOS) or where xoa.toml goes', '.')
    .option(
      '--hardware-config <file>',
      'hardware configuration to copy',
      '/etc/nixos/hardware-configuration.nix',
    )
    .option('--force', 'overwrite existing files')
    .option('--json', 'print what was written as JSON')
    .action(async (opts: InitOpts) => init(opts))
}

async function init(opts: InitOpts): Promise<void> {
  if (opts.nixos && opts.debian) throw new UsageError('--nixos and --debian exclude each other')
  if (!/^[A-Za-z0-9._-]+$/.test(opts.host) || opts.host.startsWith('.'))
    throw new UsageError(`--host: not a directory name: "${opts.host}"`)
  const nixos = opts.nixos ?? (opts.debian ? false : isNixos())
  const vars = await gather(opts)
  const problems = checkHostVars(vars)
  if (problems.length > 0) throw new UsageError(problems.join('\n'), 'xoa init --help')

  const dir = resolve(opts.dir)
  const written: string[] = []
  // --dir is the caller's own choice (its path may hold links); beneath it nothing is followed.
  mkdirSync(dir, { recursive: true })
  const top = await SafeDir.open(await realpath(dir))
  try {
    const write = async (at: SafeDir, rel: string, text: string | Buffer) => {
      const file = join(dir, rel)
      if ((await at.lstat(basename(rel))) && !opts.force)
        throw new UsageError(`${file} exists; not overwriting it`, 'xoa init --force (or edit the file)')
      await at.writeFile(basename(rel), text, self(0o644))
      written.push(file)
    }
    if (nixos) {
      const rel = join('hosts', opts.host)
      const hostDir = await top.beneath(rel, { create: self(0o755) })
      try {
        const hw = join(rel, 'hardware-configuration.nix')
        if ((await hostDir.lstat(basename(hw))) && !opts.force)
          throw new UsageError(
            `${join(dir, hw)} exists; not overwriting it`,
            'xoa init --force (or edit the file)',
          )
        await write(hostDir, join(rel, 'vars.nix'), renderVarsNix(vars))
        if (existsSync(opts.hardwareConfig)) await write(hostDir, hw, readFileSync(opts.hardwareConfig))
      } finally {
        await hostDir.close()
      }
    } else {
      await write(top, 'xoa.toml', renderXoaToml(vars))
    }
  } finally {
    await top.close()
  }
  if (opts.json) return printJson({ nixos, written, vars })
  for (const f of written) say(`wrote ${f}`)
  say(
    nixos
      ? `next: git add hosts/${opts.host} && xoa install --host ${opts.host}`
      : `next: sudo xoa apply --spec ${join(dir, 'xoa.toml')}`,
  )
}

async function gather(opts: InitOpts): Promise<HostVars> {
  const keys = [...opts.sshKey]
  for (const f of opts.sshKeyFile) {
    let text: string
    try {
      text = readFileSync(f, 'utf8')
    } catch (e) {
      throw new UsageError(
        `--ssh-key-file ${f}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      )
    }
    keys.push(
      ...text
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '' && !l.startsWith('#')),
    )
  }
  let { hostname, timezone } = opts
  const tty = process.stdin.isTTY === true && process.stdout.isTTY === true
  if (tty && (hostname === undefined || keys.length === 0)) {
    const rl = createInterface({ input: process.stdin, output: process.stdout })
    try {
      const def = osHostname().split('.')[0] || 'xoa'
      hostname ??= (await rl.question(`Host name [${def}]: `)).trim() || def
      timezone ??= (await rl.question('Time zone [UTC]: ')).trim() || 'UTC'
      while (keys.length === 0) {
        const k = (await rl.question('Admin SSH public key (one line): ')).trim()
        if (k) keys.push(k)
      }
    } finally {
      rl.close()
    }
  }
  if (hostname === undefined)
    throw new XoaError('--hostname is required when not on a terminal', {
      exitCode: 2,
      hint: 'xoa init --hostname NAME --ssh-key "ssh-ed25519 AAAA… you@laptop"',
    })
  return { hostname, timezone: timezone ?? 'UTC', sshKeys: keys }
}
