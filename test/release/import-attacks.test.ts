// `xoa releases import` as an extraction boundary: each test imports a crafted archive whose index agrees with
// the attack, and checks what the disk ended up with — the store exactly as before, nothing outside it, no
// staging left. Where plain `tar -x` (the naive import) lets the attack through, the test shows that too.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, lstatSync, readlinkSync, realpathSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { archive, fileEntry, ID, importSetup, naiveExtract, smallRelease, snapshot } from './craft.ts'

const setidUnder = (dir: string) => execFileSync('find', [dir, '-perm', '/6000'], { encoding: 'utf8' }).trim()

test('the crafted baseline imports: relative workspace links inside the release are kept as they are', (t) => {
  const s = importSetup(t)
  const { entries, members } = smallRelease()
  const r = s.run(archive(entries, members), ['--json'])
  assert.equal(r.status, 0, r.stderr)
  assert.equal(JSON.parse(r.stdout).status, 'imported')
  const rel = join(s.state, 'releases', ID)
  assert.equal(readlinkSync(join(rel, 'xo/node_modules/w1')), '../packages/w1')
  assert.equal(
    realpathSync(join(rel, 'xo/node_modules/.bin/w1')),
    join(realpathSync(rel), 'xo/packages/w1/run.sh'),
  )
  assert.equal(statSync(join(rel, 'xo/packages/w1/run.sh')).mode & 0o7777, 0o755)
  assert.equal(statSync(rel).mode & 0o7777, 0o755)
  assert.equal(statSync(join(rel, 'manifest.json')).uid, process.getuid?.())
})

test('an absolute symlink is refused (plain tar -x keeps it)', (t) => {
  const s = importSetup(t)
  const { entries, members } = smallRelease()
  entries.push({ path: 'xo/evil', type: 'symlink', target: s.outside })
  members.push({ name: 'release/xo/evil', flag: '2', mode: 0o777, linkname: s.outside })
  const buf = archive(entries, members)
  s.refused(s.run(buf), /xo\/evil: symlink to an absolute path/)
  const naive = join(s.root, 'naive')
  writeFileSync(join(s.root, 'n.tgz'), buf)
  naiveExtract(join(s.root, 'n.tgz'), naive)
  assert.equal(readlinkSync(join(naive, 'release/xo/evil')), s.outside, 'the naive import keeps the link')
})

test('a ../ symlink that leaves the release is refused, and nothing is written through it', (t) => {
  const s = importSetup(t)
  const { entries, members } = smallRelease()
  // releases/<id>/xo/up → ../../../outside: the store's parent's sibling.
  entries.push({ path: 'xo/up', type: 'symlink', target: '../../../../outside' })
  members.push({ name: 'release/xo/up', flag: '2', mode: 0o777, linkname: '../../../../outside' })
  const f = fileEntry('xo/up/pwned', Buffer.from('pwned'))
  members.push(f.member)
  s.refused(s.run(archive(entries, members)), /xo\/up: symlink leaves the release/)
  // With the index not listing the file under the link, the member itself is refused before any write.
  entries.push(f.entry)
  s.refused(s.run(archive(entries, members)), /leaves the release|parent is not a directory/)
})

test('a symlink chain that escapes is refused though each link looks inside on its own', (t) => {
  const s = importSetup(t)
  const { entries, members } = smallRelease()
  // xo/here → . (xo itself); xo/hop → here/../.. : read as plain names that is the release root, but the
  // kernel resolves here to xo, so here/.. is the release root and one more .. is the store.
  for (const [p, target] of [
    ['xo/here', '.'],
    ['xo/hop', 'here/../..'],
  ] as const) {
    entries.push({ path: p, type: 'symlink', target })
    members.push({ name: `release/${p}`, flag: '2', mode: 0o777, linkname: target })
  }
  const buf = archive(entries, members)
  s.refused(s.run(buf), /xo\/hop: symlink leaves the release/)
  const naive = join(s.root, 'naive')
  writeFileSync(join(s.root, 'n.tgz'), buf)
  naiveExtract(join(s.root, 'n.tgz'), naive)
  // The kernel's answer: realpathSync.native (Node's JS realpath gets this chain wrong as well).
  assert.equal(
    realpathSync.native(join(naive, 'release/xo/hop')),
    realpathSync.native(naive),
    'naively, hop leaves release/',
  )
})

test('a hard link to /etc/shadow is refused; /etc/shadow keeps its links, owner and mode', (t) => {
  const s = importSetup(t)
  const shadow = lstatSync('/etc/shadow')
  const { entries, members } = smallRelease()
  entries.push(fileEntry('xo/shadow', Buffer.alloc(0)).entry)
  members.push({ name: 'release/xo/shadow', flag: '1', mode: 0o644, linkname: '/etc/shadow' })
  s.refused(s.run(archive(entries, members)), /xo\/shadow is a hardlink member .*the index says file/)
  // An index that names the type is not even an index.
  const bad = archive(entries, members, {
    index: {
      format: 'xoa-release/1',
      id: ID,
      digest: '0'.repeat(64),
      files: 0,
      bytes: 0,
      entries: [{ path: 'x', type: 'hardlink', target: '/etc/shadow' }],
    },
  })
  s.refused(s.run(bad), /not a valid index/)
  const after = lstatSync('/etc/shadow')
  assert.deepEqual(
    [after.nlink, after.uid, after.gid, after.mode],
    [shadow.nlink, shadow.uid, shadow.gid, shadow.mode],
  )
})

test('a setuid or setgid file is refused, in the index or only in its header (plain tar -x keeps the bit)', (t) => {
  const s = importSetup(t)
  const payload = Buffer.from('#!/bin/sh\nid\n')
  for (const [indexMode, headerMode, why] of [
    [0o4755, 0o4755, /file mode 4755, a release has only 644 or 755/],
    [0o755, 0o4755, /has mode 4755, the index says 755/],
    [0o755, 0o2755, /has mode 2755, the index says 755/],
  ] as const) {
    const { entries, members } = smallRelease()
    const f = fileEntry('xo/suid', payload, indexMode)
    entries.push(f.entry)
    members.push({ ...f.member, mode: headerMode })
    s.refused(s.run(archive(entries, members)), why)
  }
  assert.equal(setidUnder(s.state), '')
  const { entries, members } = smallRelease()
  const f = fileEntry('xo/suid', payload, 0o4755)
  entries.push(f.entry)
  members.push(f.member)
  writeFileSync(join(s.root, 'n.tgz'), archive(entries, members))
  naiveExtract(join(s.root, 'n.tgz'), join(s.root, 'naive'))
  assert.equal(statSync(join(s.root, 'naive/release/xo/suid')).mode & 0o7777, 0o4755, 'naively the bit stays')
})

test('a device node or a fifo is refused (plain tar -x as root makes the device)', (t) => {
  const s = importSetup(t)
  for (const [flag, what] of [
    ['3', 'char'],
    ['4', 'block'],
    ['6', 'fifo'],
  ] as const) {
    const { entries, members } = smallRelease()
    entries.push(fileEntry('xo/dev', Buffer.alloc(0)).entry)
    members.push({ name: 'release/xo/dev', flag, mode: 0o666, devmajor: 1, devminor: 3 })
    s.refused(s.run(archive(entries, members)), new RegExp(`xo/dev is a ${what} member`))
  }
  const { entries, members } = smallRelease()
  members.push({ name: 'release/xo/dev', flag: '3', mode: 0o666, devmajor: 1, devminor: 3 })
  writeFileSync(join(s.root, 'n.tgz'), archive(entries, members))
  naiveExtract(join(s.root, 'n.tgz'), join(s.root, 'naive'))
  assert.ok(lstatSync(join(s.root, 'naive/release/xo/dev')).isCharacterDevice(), 'naively the device exists')
})

test('a path with .. (or an absolute one) is refused before anything is written', (t) => {
  const s = importSetup(t)
  for (const path of [
    'xo/../../../../outside/pwned',
    '../outside/pwned',
    '/outside/pwned',
    'xo//x',
    'xo/./x',
  ]) {
    const { entries, members } = smallRelease()
    const f = fileEntry(path, Buffer.from('pwned'))
    entries.push(f.entry)
    members.push(f.member)
    s.refused(s.run(archive(entries, members)), /not a plain relative path/)
  }
  // The index is clean, but a member's name climbs out of release/: refused as not listed.
  const { entries, members } = smallRelease()
  members.push(fileEntry('../../outside/pwned', Buffer.from('pwned')).member)
  s.refused(s.run(archive(entries, members)), /not listed in the index/)
  assert.ok(!existsSync(join(s.root, 'outside', 'pwned')))
})

test('a directory swapped for a symlink midway is refused, and nothing lands where the link points', (t) => {
  const s = importSetup(t)
  const f = fileEntry('xo/packages/w1/x.js', Buffer.from('x'))
  // The index says dir; the archive brings a symlink to outside at that path, then a file "inside" it.
  {
    const { entries, members } = smallRelease()
    const at = members.findIndex((m) => m.name === 'release/xo/packages/w1/')
    members[at] = { name: 'release/xo/packages/w1', flag: '2', mode: 0o777, linkname: s.outside }
    entries.push(f.entry)
    members.push(f.member)
    s.refused(s.run(archive(entries, members)), /xo\/packages\/w1 is a symlink member .*the index says dir/)
  }
  // The dir comes as a dir, then again as a symlink, then a file under it.
  {
    const { entries, members } = smallRelease()
    entries.push(f.entry)
    members.push({ name: 'release/xo/packages/w1', flag: '2', mode: 0o777, linkname: s.outside }, f.member)
    s.refused(s.run(archive(entries, members)), /xo\/packages\/w1 appears twice/)
  }
  assert.deepEqual(snapshot(s.outside), [])
})
