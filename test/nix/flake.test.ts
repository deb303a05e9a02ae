// Opt-in (NIXPKGS_LIB): the flake's outputs have the shapes `nix flake check` checks, evaluated with stub inputs
// (test/nix/flake-outputs.nix; a real `nix flake check` needs a flake.lock and GitHub, neither of which is here).
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { test } from 'node:test'
import { REPO, tempDir } from '../helpers.ts'
import { NIXPKGS_LIB, skipNoLib } from './eval-module.ts'

function outputs(env: Record<string, string> = {}) {
  const r = spawnSync(
    'nix-instantiate',
    [
      '--eval',
      '--strict',
      '--json',
      join(REPO, 'test', 'nix', 'flake-outputs.nix'),
      '--argstr',
      'nixpkgsLib',
      NIXPKGS_LIB!,
    ],
    { encoding: 'utf8', env: { ...process.env, ...env } },
  )
  assert.equal(r.status, 0, r.stderr)
  return JSON.parse(r.stdout)
}

const SYSTEMS = ['aarch64-linux', 'x86_64-linux']

test('flake outputs: a module (not a path), packages, apps, checks, formatter, the example host', {
  skip: skipNoLib,
}, () => {
  const o = outputs({ XOA_VM_RELEASE: '' })
  assert.deepEqual(o.inputs, ['nixpkgs', 'self'])
  assert.deepEqual(o.outputs, [
    'apps',
    'checks',
    'formatter',
    'lib',
    'nixosConfigurations',
    'nixosModules',
    'overlays',
    'packages',
  ])
  // `nix flake check`: "module must be a function or an attribute set" for a bare path.
  assert.equal(o.nixosModuleIsModule, true)
  assert.equal(o.nixosModuleIsPath, false)
  assert.deepEqual(o.moduleUnits, ['redis-xo', 'xo-build', 'xo-server', 'xoa-state'])
  assert.equal(o.overlay, true)
  assert.deepEqual(o.overlayPackages, ['libvhdi', 'xoa'])
  for (const s of SYSTEMS) {
    assert.deepEqual(o.packages[s], { default: 'derivation', libvhdi: 'derivation', xoa: 'derivation' })
    assert.deepEqual(o.apps[s], {
      'update-xo': { program: true, type: 'app' },
      xoa: { program: true, type: 'app' },
    })
    assert.deepEqual(o.checks[s], { libvhdi: 'derivation', xoa: 'derivation' })
    assert.equal(o.formatter[s], 'derivation')
  }
  assert.deepEqual(o.nixosConfigurations.xoa, {
    _type: 'stub-nixos-system',
    system: 'x86_64-linux',
    firstModuleIsFunction: true,
  })
  assert.deepEqual(o.xoPin, ['channel', 'date', 'rev', 'url', 'version'])
})

test('flake checks: the VM test is there when XOA_VM_RELEASE names a release', { skip: skipNoLib }, (t) => {
  const o = outputs({ XOA_VM_RELEASE: tempDir(t) })
  for (const s of SYSTEMS)
    assert.deepEqual(o.checks[s], { libvhdi: 'derivation', vm: 'derivation', xoa: 'derivation' })
})
