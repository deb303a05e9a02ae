// The one lock helper: exclusive, a dead holder's lock taken over, and a planted lock (symlink, directory,
// another account's file) refused without being followed, read through or removed.
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { chownSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { takeLock } from '../../src/fs/lock.ts'
import { SafeDir } from '../../src/fs/safe-dir.ts'
import { XoaError } from '../../src/util/errors.ts'
import { tempDir } from '../helpers.ts'

const busy = (pid: number) => new XoaError(`busy (pid ${pid})`)

test('a held lock refuses a second taker; released, it can be taken again', async (t) => {
  const tmp = tempDir(t, 'xoa-lock-')
  const dir = await SafeDir.open(tmp)
  t.after(() => dir.close())
  const child = spawn('sleep', ['30'])
  const other = String(child.pid)
  t.after(() => child.kill())
  writeFileSync(join(tmp, '.lock'), `${other}\n`)
  await assert.rejects(takeLock(dir, '.lock', { busy }), new RegExp(`busy \\(pid ${other}\\)`))
  assert.equal(readFileSync(join(tmp, '.lock'), 'utf8'), `${other}\n`, 'the live holder keeps its lock')
  const exited = new Promise((r) => child.once('exit', r))
  child.kill()
  await exited // reaped: its pid is free, the lock is a dead holder's
  const lock = await takeLock(dir, '.lock', { busy })
  assert.equal(readFileSync(join(tmp, '.lock'), 'utf8'), `${process.pid}\n`)
  await lock.release()
  await lock.release()
  assert.equal(lstatSync(join(tmp, '.lock'), { throwIfNoEntry: false }), undefined)
  assert.deepEqual(
    spawnSync('ls', ['-A', tmp], { encoding: 'utf8' }).stdout.trim(),
    '',
    'no temp file left behind',
  )
})

test('a symlink, a directory or another account’s file at the lock is refused and left alone', async (t) => {
  const tmp = tempDir(t, 'xoa-lock-')
  const victim = join(tmp, 'victim')
  writeFileSync(victim, '1\n', { mode: 0o600 })
  mkdirSync(join(tmp, 'd'))
  const dir = await SafeDir.open(join(tmp, 'd'))
  t.after(() => dir.close())
  symlinkSync(victim, join(tmp, 'd', '.lock'))
  await assert.rejects(takeLock(dir, '.lock', { busy }), /d\/\.lock: is a symlink.*not a lock xoa took/)
  assert.equal(lstatSync(join(tmp, 'd', '.lock')).isSymbolicLink(), true)
  assert.equal(readFileSync(victim, 'utf8'), '1\n')
  mkdirSync(join(tmp, 'd', 'lk'))
  await assert.rejects(takeLock(dir, 'lk', { busy }), /lk: is a directory/)
  writeFileSync(join(tmp, 'd', 'theirs'), '999999\n')
  chownSync(join(tmp, 'd', 'theirs'), 65534, 65534)
  await assert.rejects(takeLock(dir, 'theirs', { busy }), /owned by uid 65534/)
  assert.equal(readFileSync(join(tmp, 'd', 'theirs'), 'utf8'), '999999\n')
})
