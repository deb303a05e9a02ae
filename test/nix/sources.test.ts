// CI: the NixOS module restates no directive the renderer writes. Every security-relevant directive has one
// source (src/render/); the module only installs the rendered units and adds what nix/lib/drop-ins.nix allows.
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { hardening } from '../../src/render/hardening.ts'
import { renderAll } from '../../src/render/index.ts'
import { DEFAULT_RENDER_ENV } from '../../src/render/types.ts'
import { validateSpec } from '../../src/spec/load.ts'
import { REPO } from '../helpers.ts'

const MODULE = join(REPO, 'nix', 'module')

/** Every directive name hardening() can write, over the options that change which ones it writes. */
function hardeningDirectives(): Set<string> {
  const names = new Set<string>()
  for (const root of [false, true])
    for (const jit of [false, true])
      for (const capabilities of [[], ['CAP_NET_BIND_SERVICE']])
        for (const line of hardening({
          readWritePaths: ['/x'],
          addressFamilies: ['AF_UNIX'],
          root,
          jit,
          capabilities,
          privateNetwork: true,
        }))
          if (Array.isArray(line)) names.add(line[0])
  return names
}

/** Directive names of every rendered unit, all switches on (sudo mode, broker mode, schedule). */
function renderedDirectives(): Set<string> {
  const names = new Set<string>()
  for (const mode of ['broker', 'sudo'] as const) {
    const spec = validateSpec({ mounts: { mode }, updates: { schedule: 'daily' } })
    for (const f of renderAll(spec, DEFAULT_RENDER_ENV))
      if (/\.(service|socket|timer)$/.test(f.path))
        for (const m of f.content.matchAll(/^([A-Z][A-Za-z]+)=/gm)) names.add(m[1]!)
  }
  return names
}

const moduleFiles = () =>
  readdirSync(MODULE)
    .filter((f) => f.endsWith('.nix'))
    .map((f) => [f, readFileSync(join(MODULE, f), 'utf8')] as const)

test('nix/module restates no hardening directive of src/render/hardening.ts', () => {
  const names = hardeningDirectives()
  assert.ok(names.size >= 25, `only ${names.size} directives`)
  for (const d of ['NoNewPrivileges', 'ProtectHome', 'SystemCallFilter', 'CapabilityBoundingSet', 'UMask'])
    assert.ok(names.has(d), d)
  for (const [f, text] of moduleFiles())
    for (const d of names) assert.doesNotMatch(text, new RegExp(`\\b${d}\\b`), `nix/module/${f} names ${d}`)
})

test('nix/module sets no other directive of the rendered units either (the broker, ExecStart, User…)', () => {
  const names = renderedDirectives()
  for (const d of ['KillMode', 'DevicePolicy', 'ExecStart', 'User', 'ListenStream', 'OnCalendar'])
    assert.ok(names.has(d), d)
  for (const [f, text] of moduleFiles())
    for (const d of names) assert.doesNotMatch(text, new RegExp(`\\b${d}\\s*=`), `nix/module/${f} sets ${d}`)
})
