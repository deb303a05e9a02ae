// $XOA_NODE: the NixOS module builds with nixpkgs' Node (the registry's prebuilt binaries do not run there).
import assert from 'node:assert/strict'
import { readdirSync, readlinkSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { xoa } from '../helpers.ts'
import { fixtureSetup, runtimeEnv } from './helpers.ts'

/** A Node 22 that is already here: the one the shared runtime cache provisioned (provisioned if need be). */
function node22(f: ReturnType<typeof fixtureSetup>): string {
  assert.equal(xoa(['build', '--spec', f.spec], { env: runtimeEnv }).status, 0)
  const dir = readdirSync(runtimeEnv.XOA_RUNTIME_CACHE).find((n) => /^node-22\./.test(n))
  assert.ok(dir, 'a Node 22 in the runtime cache')
  return join(runtimeEnv.XOA_RUNTIME_CACHE, dir, 'bin', 'node')
}

test('with XOA_NODE the release runs the given Node', (t) => {
  const f = fixtureSetup(t)
  const bin = node22(f)
  const g = fixtureSetup(t)
  const r = xoa(['build', '--spec', g.spec], { env: { ...runtimeEnv, XOA_NODE: bin } })
  assert.equal(r.status, 0, r.stdout + r.stderr)
  assert.equal(readlinkSync(join(g.state, 'current', 'node')), join(bin, '..', '..'))
})

test('XOA_NODE of the wrong major is refused with the next step', (t) => {
  const f = fixtureSetup(t)
  // The fixture needs Node >= 22.12; the Node running these tests may be 20.
  if (process.versions.node.startsWith('22.')) return t.skip('the test runner is Node 22 itself')
  const r = xoa(['build', '--spec', f.spec], { env: { ...runtimeEnv, XOA_NODE: process.execPath } })
  assert.equal(r.status, 1)
  assert.match(r.stderr, /XOA_NODE is Node 20\.\S+, but this XO revision needs Node 22/)
  assert.match(r.stderr, /next: point XOA_NODE at a Node 22/)
})
