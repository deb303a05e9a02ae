// `xoa init` and `xoa install` as a user runs them: files that Nix parses and `xoa validate` accepts, no
// silent overwrite, bad input refused with the flag named, and the deploy command printed.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { tempDir, xoa } from '../helpers.ts'

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk7cA6O3zCwQ0nqgP3dJ8wYb0WJm0Yq3g1eR8Jx5b2L op@laptop'
const KEY2 = 'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTY= "quoted" ${x} \\ comment'

function nixEval(file: string): unknown {
  const r = spawnSync('nix-instantiate', ['--eval', '--strict', '--json', file], { encoding: 'utf8' })
  assert.equal(r.status, 0, r.stderr)
  return JSON.parse(r.stdout)
}

test('init --nixos writes hosts/<host>/vars.nix that Nix reads back exactly, and copies the hardware config', (t) => {
  const dir = tempDir(t)
  const hw = join(dir, 'hw.nix')
  writeFileSync(hw, '{ ... }: { fileSystems."/".device = "/dev/sda1"; }\n')
  const keys = join(dir, 'keys.pub')
  writeFileSync(keys, `# my keys\n${KEY2}\n\n`)
  const r = xoa([
    'init',
    '--nixos',
    '--dir',
    dir,
    '--hostname',
    'xo-lab',
    '--timezone',
    'Europe/Paris',
    '--ssh-key',
    KEY,
    '--ssh-key-file',
    keys,
    '--hardware-config',
    hw,
  ])
  assert.equal(r.status, 0, r.stderr)
  const vars = join(dir, 'hosts', 'xoa', 'vars.nix')
  assert.equal(spawnSync('nix-instantiate', ['--parse', vars]).status, 0)
  assert.deepEqual(nixEval(vars), {
    hostname: 'xo-lab',
    timezone: 'Europe/Paris',
    adminSshKeys: [KEY, KEY2],
    network: null,
  })
  assert.equal(
    readFileSync(join(dir, 'hosts', 'xoa', 'hardware-configuration.nix'), 'utf8'),
    readFileSync(hw, 'utf8'),
  )
  assert.match(r.stdout, /next: git add hosts\/xoa && xoa install --host xoa/)
})

test('init refuses to overwrite without --force, and overwrites with it', (t) => {
  const dir = tempDir(t)
  const args = [
    'init',
    '--nixos',
    '--dir',
    dir,
    '--hostname',
    'a',
    '--ssh-key',
    KEY,
    '--hardware-config',
    join(dir, 'none'),
  ]
  assert.equal(xoa(args).status, 0)
  const vars = join(dir, 'hosts', 'xoa', 'vars.nix')
  writeFileSync(vars, '# mine\n{ }\n')
  const again = xoa(args)
  assert.equal(again.status, 2)
  assert.match(again.stderr, /vars\.nix exists; not overwriting it/)
  assert.match(again.stderr, /next: xoa init --force/)
  assert.equal(readFileSync(vars, 'utf8'), '# mine\n{ }\n')
  assert.equal(xoa([...args, '--force']).status, 0)
  assert.match(readFileSync(vars, 'utf8'), /hostname = "a";/)
})

test('init --debian writes an xoa.toml that xoa validate accepts', (t) => {
  const dir = tempDir(t)
  const r = xoa([
    'init',
    '--debian',
    '--dir',
    dir,
    '--hostname',
    'xo.example.lan',
    '--ssh-key',
    KEY,
    '--json',
  ])
  assert.equal(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout)
  assert.deepEqual(out.written, [join(dir, 'xoa.toml')])
  assert.ok(!existsSync(join(dir, 'hosts')))
  const v = xoa(['validate', '--spec', join(dir, 'xoa.toml'), '--json'])
  assert.equal(v.status, 0, v.stderr)
  const spec = JSON.parse(v.stdout)
  assert.equal(spec.xo.hostname, 'xo.example.lan')
  assert.deepEqual(spec.admin.authorizedKeys, [KEY])
})

test('init refuses bad values, naming the flag, and writes nothing', (t) => {
  const dir = tempDir(t)
  const cases: [string[], RegExp][] = [
    [['--hostname', 'bad host'], /--hostname: must be a DNS name/],
    [['--hostname', 'a', '--ssh-key', 'not a key'], /--ssh-key: must be one OpenSSH public key line/],
    [['--hostname', 'a', '--timezone', '../etc/passwd'], /--timezone: not a time zone name/],
    [['--hostname', 'a', '--host', '../x'], /--host: not a directory name/],
    [['--hostname', 'a', '--debian'], /exclude each other/],
    [['--ssh-key', KEY], /--hostname is required when not on a terminal/],
    [['--hostname', 'a', '--ssh-key-file', join(dir, 'missing.pub')], /--ssh-key-file .*ENOENT/],
  ]
  for (const [args, message] of cases) {
    const r = xoa(['init', '--dir', dir, '--nixos', ...args])
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`)
    assert.match(r.stderr, message)
  }
  assert.ok(!existsSync(join(dir, 'hosts')))
})

test('install prints the seed deploy command; off NixOS it says so and exits 1', (t) => {
  const dir = tempDir(t)
  mkdirSync(join(dir, 'flake'))
  const dry = xoa(['install', '--flake', join(dir, 'flake'), '--host', 'xoa', '--dry-run'])
  assert.equal(dry.status, 0, dry.stderr)
  assert.match(
    dry.stdout,
    new RegExp(`nixos-rebuild switch --flake ${join(dir, 'flake')}#xoa -L --show-trace`),
  )
  const real = xoa(['install', '--flake', join(dir, 'flake')], {
    env: { XOA_NIXOS_MARKER: join(dir, 'NIXOS') },
  })
  assert.equal(real.status, 1)
  assert.match(real.stderr, /this is not NixOS/)
  assert.match(real.stderr, /next: on Debian\/Ubuntu: xoa init --debian/)
  const bad = xoa(['install', '--action', 'rm'])
  assert.equal(bad.status, 2)
  assert.match(bad.stderr, /--action: unknown nixos-rebuild action/)
})

test('init and install have --help', () => {
  for (const c of ['init', 'install']) {
    const r = xoa([c, '--help'])
    assert.equal(r.status, 0)
    assert.match(r.stdout, /Usage: xoa/)
  }
})
