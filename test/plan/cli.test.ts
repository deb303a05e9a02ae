// The commands themselves: help, plan writes nothing, usage errors, apply refuses to run unprivileged.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmodSync, copyFileSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { REPO, tempDir, XOA_BIN, xoa } from '../helpers.ts'
import { makeTargetRoot } from './target-root.ts'

const EXAMPLE = join(REPO, 'examples', 'xoa.toml')

function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort()
}

test('plan and apply have --help', () => {
  for (const cmd of ['plan', 'apply']) {
    const r = xoa([cmd, '--help'])
    assert.equal(r.status, 0)
    assert.match(r.stdout, /--root <dir>/)
    assert.match(r.stdout, /--json/)
  }
  assert.match(xoa(['apply', '--help']).stdout, /--yes/)
})

test('plan reads only: the target is byte-identical afterwards', (t) => {
  const root = makeTargetRoot(tempDir(t))
  const before = tree(root)
  const passwd = readFileSync(join(root, 'etc', 'passwd'), 'utf8')
  const r = xoa(['plan', '--spec', EXAMPLE, '--root', root])
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, /^\+ user xo \(system, home \/var\/lib\/xo, shell \/usr\/sbin\/nologin/m)
  assert.match(
    r.stdout,
    /^= secret \/var\/lib\/xo\/secrets\/admin-password \(managed at run time by xoa bootstrap: .*absent: generated root:root 0600\)$/m,
  )
  assert.match(r.stdout, /^Plan: \d+ to create, 0 to change, \d+ unchanged, 11 skipped\.$/m)
  const j = JSON.parse(xoa(['plan', '--spec', EXAMPLE, '--root', root, '--json']).stdout)
  assert.ok(j.changes > 30)
  assert.equal(j.summary.skip, 11)
  assert.deepEqual(tree(root), before)
  assert.equal(readFileSync(join(root, 'etc', 'passwd'), 'utf8'), passwd)
})

test('a --root that is not a directory is a usage error', (t) => {
  const r = xoa(['plan', '--spec', EXAMPLE, '--root', join(tempDir(t), 'missing')])
  assert.equal(r.status, 2)
  assert.match(r.stderr, /--root .*missing: not a directory/)
})

test('apply as an unprivileged user refuses before changing anything', (t) => {
  const root = makeTargetRoot(tempDir(t))
  const before = tree(root)
  // The bundle is self-contained: a copy the unprivileged user can read, wherever the checkout lives.
  const bin = join(tempDir(t), 'xoa.mjs')
  copyFileSync(XOA_BIN, bin)
  chmodSync(join(bin, '..'), 0o755)
  chmodSync(bin, 0o644)
  const r = spawnSync(
    'setpriv',
    [
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
      process.execPath,
      bin,
      'apply',
      '--spec',
      EXAMPLE,
      '--root',
      root,
      '--yes',
    ],
    { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } },
  )
  assert.equal(r.status, 1, r.stderr)
  assert.match(r.stderr, /must run as root/)
  assert.deepEqual(tree(root), before)
})
