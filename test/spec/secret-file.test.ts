import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { chmodSync, chownSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { isSecretFileRef, readSecretFile } from '../../src/spec/secret-file.ts'

const dir = mkdtempSync(join(tmpdir(), 'xoa-secret-'))
const file = (name: string, content: string, mode = 0o600) => {
  const p = join(dir, name)
  writeFileSync(p, content, { mode })
  chmodSync(p, mode)
  return p
}

test('a 0600 file gives its content without the trailing newline', () => {
  assert.equal(readSecretFile(file('ok', 's3cret\n'), 'x.passwordFile'), 's3cret')
})

test('a symlink to a good file is followed (secret managers link theirs)', () => {
  const target = file('target', 'linked')
  const link = join(dir, 'link')
  symlinkSync(target, link)
  assert.equal(readSecretFile(link, 'f'), 'linked')
})

test('a file open to group or others is refused, naming the field and the mode', () => {
  assert.throws(() => readSecretFile(file('open', 'x', 0o640), 'xoState.users.a.passwordFile'), {
    message: /^xoState\.users\.a\.passwordFile: .*\(mode 640\)/,
  })
})

test('an empty, missing, non-regular or foreign-owned file is refused', () => {
  assert.throws(() => readSecretFile(file('empty', '\n'), 'f'), /is empty/)
  assert.throws(() => readSecretFile(join(dir, 'absent'), 'f'), /f: cannot read .*ENOENT/)
  const fifo = join(dir, 'fifo')
  execFileSync('mkfifo', ['-m', '600', fifo])
  assert.throws(() => readSecretFile(fifo, 'f'), /not a regular file/)
  if (process.geteuid?.() === 0) {
    const foreign = file('foreign', 'x')
    chownSync(foreign, 65534, 65534)
    assert.throws(() => readSecretFile(foreign, 'f'), /owned by uid 65534/)
  }
})

test('a file past 64 KiB is refused', () => {
  assert.throws(() => readSecretFile(file('big', 'a'.repeat(70 * 1024)), 'f'), /larger than/)
})

test('only { file = "/abs" } is a reference', () => {
  assert.ok(isSecretFileRef({ file: '/run/secrets/x' }))
  assert.ok(!isSecretFileRef({ file: 'relative' }))
  assert.ok(!isSecretFileRef({ file: '/a', extra: 1 }))
  assert.ok(!isSecretFileRef('plain'))
})
