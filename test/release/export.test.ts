// `xoa releases export` writes only what import would accept: a release with an absolute or escaping symlink,
// a setuid file or a fifo is refused before any archive exists; `current` names the current release.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { tempDir, xoa } from '../helpers.ts'
import { storeWithRelease } from './craft.ts'

test('export refuses what import would refuse, and writes nothing then', (t) => {
  const root = tempDir(t)
  const state = join(root, 'state')
  const spec = join(root, 'spec.json')
  writeFileSync(spec, JSON.stringify({ xo: { stateDir: state } }))
  const id = storeWithRelease(state)
  const xo = join(state, 'releases', id, 'xo')
  const out = join(root, 'out.tar.gz')
  const exportIt = (ref = 'current') => xoa(['releases', 'export', ref, '--spec', spec, '-o', out, '--json'])

  const ok = exportIt()
  assert.equal(ok.status, 0, ok.stderr)
  assert.equal(JSON.parse(ok.stdout).id, id)
  execFileSync('rm', [out])

  const cases: [() => void, RegExp, () => void][] = [
    [
      () => symlinkSync('/etc', join(xo, 'abs')),
      /xo\/abs: symlink to an absolute path/,
      () => execFileSync('rm', [join(xo, 'abs')]),
    ],
    [
      () => symlinkSync('../../..', join(xo, 'up')),
      /xo\/up: symlink leaves the release/,
      () => execFileSync('rm', [join(xo, 'up')]),
    ],
    [
      () => chmodSync(join(xo, 'a.js'), 0o4755),
      /xo\/a\.js has mode 4755/,
      () => chmodSync(join(xo, 'a.js'), 0o644),
    ],
    [
      () => execFileSync('mkfifo', [join(xo, 'pipe')]),
      /xo\/pipe is a FIFO/,
      () => execFileSync('rm', [join(xo, 'pipe')]),
    ],
  ]
  for (const [plant, why, undo] of cases) {
    plant()
    const r = exportIt()
    assert.notEqual(r.status, 0)
    assert.match(r.stderr, why)
    assert.ok(!existsSync(out))
    assert.deepEqual(
      readdirSync(root).filter((n) => n.includes('out.tar.gz')),
      [],
      'no temp file left',
    )
    undo()
  }
  const none = exportIt('0.0.0-0000000000-000000000000')
  assert.equal(none.status, 1)
  assert.match(none.stderr, /no complete release/)
})
