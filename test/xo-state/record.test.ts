// The ownership record on disk: root's 0600 in a 0700 directory, and never believed (or written through) when
// something else sits in its place: a symlink, a file of another account, a symlinked directory.
import assert from 'node:assert/strict'
import { chownSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { emptyRecord, readRecord, writeRecord } from '../../src/xo-state/record.ts'
import { tempDir } from '../helpers.ts'

const record = () => ({ ...emptyRecord(), objects: { 'user:a@b': { id: 'u1', created: true } } })

test('written 0600 in a created 0700 directory, atomically, and read back', async (t) => {
  const path = join(tempDir(t), 'secrets', 'xo-state.json')
  const r = record()
  await writeRecord(path, r)
  assert.equal(statSync(path).mode & 0o777, 0o600)
  assert.equal(statSync(join(path, '..')).mode & 0o777, 0o700)
  assert.deepEqual(await readRecord(path), r)
})

test('no record yet: an empty one with a fresh salt', async (t) => {
  const a = await readRecord(join(tempDir(t), 'secrets', 'xo-state.json'))
  const b = await readRecord(join(tempDir(t), 'secrets', 'xo-state.json'))
  assert.deepEqual(a.objects, {})
  assert.match(a.salt, /^[0-9a-f]{64}$/)
  assert.notEqual(a.salt, b.salt)
})

test('a symlink at the record is neither read nor written through; its target is untouched', async (t) => {
  const dir = tempDir(t)
  mkdirSync(join(dir, 'secrets'), { mode: 0o700 })
  const target = join(dir, 'elsewhere.json')
  const planted = JSON.stringify({
    version: 1,
    salt: 'ab'.repeat(32),
    objects: { 'user:victim@x': { id: 'v', created: true } },
  })
  writeFileSync(target, planted)
  const path = join(dir, 'secrets', 'xo-state.json')
  symlinkSync(target, path)
  await assert.rejects(readRecord(path), /symlink/)
  await assert.rejects(writeRecord(path, record()), /symlink/)
  assert.equal(readFileSync(target, 'utf8'), planted)
})

test('a symlinked secrets directory is refused: nothing lands where it points', async (t) => {
  const dir = tempDir(t)
  const real = join(dir, 'real')
  mkdirSync(real)
  symlinkSync(real, join(dir, 'secrets'))
  await assert.rejects(writeRecord(join(dir, 'secrets', 'xo-state.json'), record()), /symlink/)
  assert.equal(statSync(join(real, 'xo-state.json'), { throwIfNoEntry: false }), undefined)
})

test("another account's file there is not believed (it could name objects for xoa to delete)", async (t) => {
  if (process.geteuid?.() !== 0) return t.skip('needs root to chown')
  const dir = tempDir(t)
  mkdirSync(join(dir, 'secrets'), { mode: 0o700 })
  const path = join(dir, 'secrets', 'xo-state.json')
  writeFileSync(path, JSON.stringify(record()), { mode: 0o600 })
  chownSync(path, 65534, 65534)
  await assert.rejects(readRecord(path), /owned by uid 65534/)
})

test('a malformed record stops with what to do, instead of starting over (which would forget ownership)', async (t) => {
  const dir = tempDir(t)
  mkdirSync(join(dir, 'secrets'), { mode: 0o700 })
  const path = join(dir, 'secrets', 'xo-state.json')
  writeFileSync(path, '{"version":', { mode: 0o600 })
  await assert.rejects(readRecord(path), /not JSON/)
  writeFileSync(path, '{"version":2}', { mode: 0o600 })
  await assert.rejects(readRecord(path), /not an xoa XO-state record/)
})

test('the record lives in the secrets a backup takes and a restore puts back (root-only rules)', async () => {
  const { validateSpec } = await import('../../src/spec/load.ts')
  const { statePaths } = await import('../../src/spec/paths.ts')
  const { restoredDirs } = await import('../../src/backup/locations.ts')
  const { sectionRules } = await import('../../src/backup/rules.ts')
  const { isInside } = await import('../../src/spec/schema.ts')
  const spec = validateSpec({})
  for (const mode of ['systemd', 'foreground'] as const) {
    assert.ok(isInside(statePaths(spec).xoStateRecord, restoredDirs(spec, mode).secrets))
    const rules = sectionRules('secrets', mode, {
      service: { uid: 998, gid: 998 },
      admin: { uid: 0, gid: 0 },
    })
    assert.deepEqual(rules.file('xo-state.json'), { uid: 0, gid: 0, mode: 0o600 })
  }
})
