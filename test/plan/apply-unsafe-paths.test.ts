// Issue 10, findings 5, 6 and 11, performed against the bundled CLI: a symlinked parent that apply does not
// declare and the mode of the installed spec copy. Each asserts on
// what the disk holds afterwards (the outside directory, the outside file's owner and mode).
import assert from 'node:assert/strict'
import { chmodSync, mkdirSync, readdirSync, statSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { REPO, tempDir, xoa } from '../helpers.ts'
import { makeTargetRoot } from './target-root.ts'

const EXAMPLE = join(REPO, 'examples', 'xoa.toml')
const apply = (root: string) => xoa(['apply', '--spec', EXAMPLE, '--root', root, '--yes'])

/** Everything beneath `dir`, directories included. */
const under = (dir: string) => readdirSync(dir, { recursive: true }).map(String)

for (const planted of ['etc/sudoers.d', 'etc/systemd', 'var/lib']) {
  test(`apply --root refuses a symlinked ${planted} it does not declare and writes nothing outside`, (t) => {
    const root = makeTargetRoot(tempDir(t))
    const outside = tempDir(t, 'xoa-outside-')
    mkdirSync(join(root, planted, '..'), { recursive: true })
    symlinkSync(outside, join(root, planted))
    const r = apply(root)
    assert.notEqual(r.status, 0, r.stdout)
    assert.match(r.stderr, new RegExp(`${join(root, planted)}: is a symlink \\(to ${outside}\\)`))
    assert.deepEqual(under(outside), [])
    const plan = xoa(['plan', '--spec', EXAMPLE, '--root', root])
    assert.notEqual(plan.status, 0)
    assert.match(plan.stderr, /is a symlink/)
    assert.deepEqual(under(outside), [])
  })
}

// A hard link planted in place of a secret: apply no longer touches secrets; test/run/secrets.test.ts plants it
// where bootstrap writes them.

test('the installed spec copy is readable by root only (it may hold extraServerEnv, xo.settings values)', (t) => {
  const root = makeTargetRoot(tempDir(t))
  const r = apply(root)
  assert.equal(r.status, 0, r.stderr)
  const st = statSync(join(root, 'etc', 'xoa', 'xoa.toml'))
  assert.deepEqual([st.uid, st.gid, (st.mode & 0o7777).toString(8)], [0, 0, '600'])
  // A copy left 0644 by an older xoa is tightened.
  chmodSync(join(root, 'etc', 'xoa', 'xoa.toml'), 0o644)
  assert.equal(apply(root).status, 0)
  assert.equal((statSync(join(root, 'etc', 'xoa', 'xoa.toml')).mode & 0o7777).toString(8), '600')
})
