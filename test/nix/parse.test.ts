// CI: every .nix file in the repository parses (Debian's nix-bin), and the JSON Schema the module generates
// its options from is the one the CLI prints today.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { test } from 'node:test'
import { REPO, xoa } from '../helpers.ts'

/** The .nix files git sees (tracked, or new and not ignored): not caches or build roots. */
function nixFiles(): string[] {
  const r = spawnSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '--', '*.nix'], {
    cwd: REPO,
    encoding: 'utf8',
  })
  assert.equal(r.status, 0, r.stderr)
  return [...new Set(r.stdout.split('\n').filter(Boolean))].map((f) => join(REPO, f))
}

test('every .nix file parses with nix-instantiate --parse', () => {
  const files = nixFiles()
  for (const must of ['flake.nix', 'nix/module/default.nix', 'hosts/xoa/default.nix', 'hosts/xoa/vars.nix'])
    assert.ok(files.includes(join(REPO, must)), `${must} missing`)
  for (const f of files.filter((f) => existsSync(f))) {
    const r = spawnSync('nix-instantiate', ['--parse', f], { encoding: 'utf8' })
    assert.equal(r.status, 0, `${relative(REPO, f)}: ${r.stderr}`)
  }
})

test('nix/spec-schema.json is the current `xoa schema` (regenerate: node dist/xoa.mjs schema > nix/spec-schema.json)', () => {
  const live = xoa(['schema'])
  assert.equal(live.status, 0, live.stderr)
  assert.deepEqual(
    JSON.parse(readFileSync(join(REPO, 'nix', 'spec-schema.json'), 'utf8')),
    JSON.parse(live.stdout),
  )
})
