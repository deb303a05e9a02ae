// The safe filesystem layer under attack: symlinked parents, a symlink swapped in at each component, hard
// links, a directory where a file is expected, FIFOs, world-writable directories, and a concurrent swapper.
// Every test asserts on what the disk holds afterwards (the outside directory, the outside file's owner and
// mode), not only on the verdict.
import assert from 'node:assert/strict'
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import {
  chmodSync,
  chownSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { readFileAt, writeFileAt } from '../../src/fs/at.ts'
import { SafeDir } from '../../src/fs/safe-dir.ts'
import { tempDir } from '../helpers.ts'

const ROOT = { uid: 0, gid: 0, mode: 0o644 }
const SECRET = { uid: 65534, gid: 65534, mode: 0o640 }

/** tmp/inside/a/b/c (real dirs) and tmp/outside (what an attacker points at, mirrored structure). */
function layout(t: { after(fn: () => void): void }) {
  const tmp = tempDir(t, 'xoa-fs-')
  const inside = join(tmp, 'inside')
  const outside = join(tmp, 'outside')
  mkdirSync(join(inside, 'a', 'b', 'c'), { recursive: true })
  mkdirSync(join(outside, 'b', 'c'), { recursive: true })
  mkdirSync(join(outside, 'c'), { recursive: true })
  return { tmp, inside, outside }
}

/** Every file anywhere beneath `dir`. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => !e.isDirectory())
    .map((e) => join(e.parentPath, e.name))
}

test('a symlinked parent is refused by name and nothing is written or created through it', async (t) => {
  const { inside, outside } = layout(t)
  renameSync(join(inside, 'a', 'b'), join(inside, 'a', 'b.real'))
  symlinkSync(outside, join(inside, 'a', 'b'))
  await assert.rejects(
    writeFileAt(join(inside, 'a', 'b', 'c', 'new', 'f'), 'x', ROOT, { create: { ...ROOT, mode: 0o755 } }),
    (e: Error) => e.message.includes(`${inside}/a/b: is a symlink (to ${outside})`),
  )
  assert.deepEqual(filesUnder(outside), [])
  assert.equal(statSync(join(outside, 'c')).isDirectory(), true)
  assert.deepEqual(readdirSync(join(outside, 'c')), [])
})

test('a symlink at each component of the path, in turn, is refused and the outside stays empty', async (t) => {
  const { inside, outside } = layout(t)
  const comps = ['a', 'b', 'c']
  for (let i = 0; i < comps.length; i++) {
    const at = join(inside, ...comps.slice(0, i + 1))
    renameSync(at, `${at}.real`)
    symlinkSync(join(outside, ...comps.slice(1, i + 1)), at)
    await assert.rejects(writeFileAt(join(inside, 'a', 'b', 'c', 'f'), 'x', ROOT), /is a symlink/)
    await assert.rejects(
      SafeDir.open(join(inside, 'a', 'b', 'c')).then((d) => d.setMeta('f', SECRET)),
      /is a symlink/,
    )
    unlinkSync(at)
    renameSync(`${at}.real`, at)
  }
  assert.deepEqual(filesUnder(outside), [])
  // And the real path still works afterwards.
  assert.equal(await writeFileAt(join(inside, 'a', 'b', 'c', 'f'), 'x', ROOT), 'created')
  assert.equal(readFileSync(join(inside, 'a', 'b', 'c', 'f'), 'utf8'), 'x')
})

test('a symlink at the file itself is refused by writeFile, setMeta and readFile, never written through', async (t) => {
  const { inside, outside } = layout(t)
  const victim = join(outside, 'victim')
  writeFileSync(victim, 'root only', { mode: 0o600 })
  symlinkSync(victim, join(inside, 'f'))
  const dir = await SafeDir.open(inside)
  t.after(() => dir.close())
  await assert.rejects(dir.setMeta('f', SECRET), /is a symlink/)
  await assert.rejects(dir.readFile('f'), /is a symlink/)
  await assert.rejects(dir.writeFile('f', 'mine', ROOT), /f: is a symlink, expected a regular file/)
  assert.equal(lstatSync(join(inside, 'f')).isSymbolicLink(), true)
  assert.equal(readFileSync(victim, 'utf8'), 'root only')
  const st = statSync(victim)
  assert.deepEqual([st.uid, st.gid, st.mode & 0o7777], [0, 0, 0o600])
})

test('setMeta refuses a hard-linked file and leaves the other file exactly as it was', async (t) => {
  const { inside, outside } = layout(t)
  const victim = join(outside, 'shadow')
  writeFileSync(victim, 'root only', { mode: 0o600 })
  linkSync(victim, join(inside, 'secret'))
  const dir = await SafeDir.open(inside)
  t.after(() => dir.close())
  await assert.rejects(dir.setMeta('secret', SECRET), /has 2 hard links/)
  const st = statSync(victim)
  assert.deepEqual([st.uid, st.gid, st.mode & 0o7777], [0, 0, 0o600])
  // Rewriting replaces the name: the linked file keeps its content.
  await dir.writeFile('secret', 'new', SECRET)
  assert.equal(readFileSync(victim, 'utf8'), 'root only')
  assert.equal(statSync(victim).nlink, 1)
})

test('a directory where a file is expected is refused and left intact', async (t) => {
  const { inside } = layout(t)
  mkdirSync(join(inside, 'conf'))
  writeFileSync(join(inside, 'conf', 'keep'), 'k')
  const dir = await SafeDir.open(inside)
  t.after(() => dir.close())
  await assert.rejects(dir.writeFile('conf', 'x', ROOT), /conf: is a directory, expected a regular file/)
  await assert.rejects(dir.readFile('conf'), /is a directory/)
  assert.equal(readFileSync(join(inside, 'conf', 'keep'), 'utf8'), 'k')
  // And a file where a directory is expected.
  writeFileSync(join(inside, 'plain'), 'p')
  await assert.rejects(
    SafeDir.open(join(inside, 'plain', 'x'), { create: ROOT }),
    /plain: is a regular file, expected a directory/,
  )
  assert.deepEqual(
    readdirSync(inside).filter((n) => n.startsWith('.')),
    [],
    'no temp file left behind',
  )
})

test('a FIFO is refused before it is opened (no hang), and so is a world-writable, non-sticky directory', async (t) => {
  const { inside, outside } = layout(t)
  assert.equal(spawnSync('mkfifo', [join(inside, 'fifo')]).status, 0)
  const dir = await SafeDir.open(inside)
  t.after(() => dir.close())
  await assert.rejects(dir.readFile('fifo'), /is a FIFO, expected a regular file/)
  await assert.rejects(dir.setMeta('fifo', SECRET), /is a FIFO/)
  chmodSync(join(inside, 'a'), 0o777)
  await assert.rejects(writeFileAt(join(inside, 'a', 'f'), 'x', ROOT), /a: is writable by every account/)
  assert.deepEqual(readdirSync(join(inside, 'a')), ['b'])
  chmodSync(join(inside, 'a'), 0o1777) // sticky, like /tmp: accepted
  assert.equal(await writeFileAt(join(inside, 'a', 'f'), 'x', ROOT), 'created')
  assert.deepEqual(filesUnder(outside), [])
})

test('readFile with an expected owner refuses another account’s file', async (t) => {
  const { inside } = layout(t)
  writeFileSync(join(inside, 'pid'), '1\n')
  chownSync(join(inside, 'pid'), 65534, 65534)
  const dir = await SafeDir.open(inside)
  t.after(() => dir.close())
  await assert.rejects(dir.readFile('pid', { uid: 0 }), /owned by uid 65534, expected uid 0/)
  assert.equal((await dir.readFile('pid', { uid: 65534 }))?.toString(), '1\n')
})

test('writeFile sets owner and mode before the file appears, reports created/changed/same', async (t) => {
  const { inside } = layout(t)
  const dir = await SafeDir.open(join(inside, 'new', 'deeper'), {
    create: { uid: 65534, gid: 0, mode: 0o750 },
  })
  t.after(() => dir.close())
  for (const d of ['new', 'new/deeper']) {
    const st = statSync(join(inside, d))
    assert.deepEqual([st.uid, st.gid, st.mode & 0o7777], [65534, 0, 0o750], d)
  }
  assert.equal(await dir.writeFile('s', 'secret', SECRET), 'created')
  assert.equal(await dir.writeFile('s', 'secret', SECRET), 'same')
  assert.equal(await dir.writeFile('s', 'secret', { ...SECRET, mode: 0o600 }), 'changed')
  const st = statSync(join(inside, 'new', 'deeper', 's'))
  assert.deepEqual([st.uid, st.gid, st.mode & 0o7777], [65534, 65534, 0o600])
  assert.equal((await readFileAt(join(inside, 'new', 'deeper', 's')))?.toString(), 'secret')
  assert.equal(await readFileAt(join(inside, 'nope', 's')), undefined)
  const w = await dir.writeStream('big', ROOT)
  for (let i = 0; i < 100; i++) w.stream.write(Buffer.alloc(10_000, i))
  assert.equal(lstatSync(join(inside, 'new', 'deeper', 'big'), { throwIfNoEntry: false }), undefined)
  await w.commit()
  assert.equal(statSync(join(inside, 'new', 'deeper', 'big')).size, 1_000_000)
})

test('a declared link is followed beneath the start, never to the real "/"', async (t) => {
  const { inside } = layout(t)
  mkdirSync(join(inside, 'run'))
  mkdirSync(join(inside, 'var'))
  symlinkSync('/run', join(inside, 'var', 'run'))
  const prefix = await SafeDir.open(inside)
  t.after(() => prefix.close())
  await assert.rejects(prefix.beneath('var/run'), /var\/run: is a symlink \(to \/run\)/)
  const run = await prefix.beneath('var/run', { declaredLinks: ['/var/run'] })
  await run.writeFile('marker', 'x', ROOT)
  await run.close()
  assert.equal(readFileSync(join(inside, 'run', 'marker'), 'utf8'), 'x')
  assert.equal(lstatSync('/run/marker', { throwIfNoEntry: false }), undefined)
})

test('removeTree removes a symlink inside the tree, not what it points at', async (t) => {
  const { inside, outside } = layout(t)
  writeFileSync(join(outside, 'keep'), 'k')
  symlinkSync(outside, join(inside, 'a', 'b', 'link'))
  const dir = await SafeDir.open(inside)
  t.after(() => dir.close())
  await dir.removeTree('a')
  assert.equal(lstatSync(join(inside, 'a'), { throwIfNoEntry: false }), undefined)
  assert.equal(readFileSync(join(outside, 'keep'), 'utf8'), 'k')
})

/** The swapper once its loop runs (a race that has not started yet proves nothing). */
function started(child: ChildProcess): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    child.stdout?.once('data', () => resolve(child))
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`the swapper exited (${code})`)))
  })
}

/** Killed and gone (its last rename done), before the disk is inspected or the temp dir removed. */
function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGKILL')
  return gone
}

/** A separate process flipping argv[1] between the real directory and a symlink to argv[2], until killed. */
const SWAPPER = `
    const fs = require('fs'); const [p, o] = process.argv.slice(1)
    process.stdout.write('ready')
    for (;;) {
      try { fs.renameSync(p, p + '.real'); fs.symlinkSync(o, p + '.l'); fs.renameSync(p + '.l', p) } catch {}
      try { fs.renameSync(p + '.real', p) } catch {}
    }`

test('a concurrent swapper at a parent never gets a write outside (500 attempts)', async (t) => {
  const { inside, outside } = layout(t)
  const target = join(inside, 'a', 'b')
  const child = await started(spawn(process.execPath, ['-e', SWAPPER, target, join(outside, 'b')]))
  t.after(() => child.kill('SIGKILL'))
  let written = 0
  let refused = 0
  for (let i = 0; i < 500; i++) {
    try {
      await writeFileAt(join(target, 'c', `f${i}`), 'x', ROOT)
      written++
    } catch (e) {
      refused++
      assert.match(String(e), /is a symlink|no such directory|ENOENT/)
    }
  }
  await stop(child)
  assert.deepEqual(filesUnder(outside), [], `written ${written}, refused ${refused}`)
  assert.ok(refused > 0, 'the swapper raced at least once (else this test proves nothing)')
})

test('a concurrent swapper at the file never lets setMeta change the outside file (2000 attempts)', async (t) => {
  const { inside, outside } = layout(t)
  const victim = join(outside, 'shadow')
  writeFileSync(victim, 'root only', { mode: 0o600 })
  const f = join(inside, 's')
  writeFileSync(f, 'mine', { mode: 0o600 })
  const script = `
    const fs = require('fs'); const [f, v] = process.argv.slice(1)
    process.stdout.write('ready')
    for (;;) {
      try { fs.renameSync(f, f + '.real'); fs.symlinkSync(v, f + '.l'); fs.renameSync(f + '.l', f) } catch {}
      try { fs.renameSync(f + '.real', f) } catch {}
      try { fs.unlinkSync(f + '.h'); } catch {}
      try { fs.linkSync(v, f + '.h'); fs.renameSync(f + '.h', f) } catch {}
      try { fs.writeFileSync(f + '.n', 'mine'); fs.renameSync(f + '.n', f) } catch {}
    }`
  const child = await started(spawn(process.execPath, ['-e', script, f, victim]))
  t.after(() => child.kill('SIGKILL'))
  const dir = await SafeDir.open(inside)
  t.after(() => dir.close())
  let refused = 0
  for (let i = 0; i < 500; i++)
    await dir.setMeta('s', { ...SECRET, mode: 0o640 ^ (i & 1) }).catch(() => refused++)
  await stop(child)
  const st = statSync(victim)
  assert.deepEqual([st.uid, st.gid, st.mode & 0o7777], [0, 0, 0o600], `refused ${refused}`)
  assert.ok(refused > 0, 'the swapper raced at least once')
})
