// `xoa releases import` checks content, not only shape: a tampered file, a truncated archive, sizes that
// lie or exceed the caps, a release id the store has with other content, an unexpected digest. In every
// case the store is exactly as it was; while an import runs, its staging dir is root's alone and nothing of
// the release is visible under its id.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, lstatSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { gunzipSync } from 'node:zlib'
import { contentDigest } from '../../src/release/content.ts'
import { XOA_BIN } from '../helpers.ts'
import { archive, fileEntry, ID, importSetup, naiveExtract, smallRelease, snapshot, tarOf } from './craft.ts'

test('a tampered file (same size, other bytes) is refused on its sha256; plain tar -x takes it', (t) => {
  const s = importSetup(t)
  const { entries, members } = smallRelease()
  const m = members.find((x) => x.name === 'release/xo/packages/w1/run.sh')
  assert.ok(m?.data)
  m.data = Buffer.from(m.data.toString().replace('echo w1', 'curl -s'))
  const buf = archive(entries, members)
  s.refused(s.run(buf), /xo\/packages\/w1\/run\.sh does not match its sha256/)
  writeFileSync(join(s.root, 'n.tgz'), buf)
  naiveExtract(join(s.root, 'n.tgz'), join(s.root, 'naive'))
  assert.match(readFileSync(join(s.root, 'naive/release/xo/packages/w1/run.sh'), 'utf8'), /curl/)
})

test('an index altered without its digest, or with a digest other than --digest, is refused', (t) => {
  const s = importSetup(t)
  const { entries, members } = smallRelease()
  const good = contentDigest(entries)
  const index = {
    format: 'xoa-release/1',
    id: ID,
    digest: good,
    arch: process.arch,
    files: 4,
    bytes: 0,
    entries,
  }
  index.bytes = entries.reduce((n, e) => n + (e.type === 'file' ? e.size : 0), 0)
  const changed = entries.map((e) => (e.path === 'xo/node_modules/w1' ? { ...e, target: '../packages' } : e))
  s.refused(
    s.run(archive(changed, members, { index: { ...index, entries: changed } })),
    /does not match its own digest/,
  )
  s.refused(
    s.run(archive(entries, members), ['--digest', 'a'.repeat(64)]),
    /content digest is [0-9a-f]{64}, not the expected a{64}/,
  )
  const other = process.arch === 'arm64' ? 'x64' : 'arm64'
  s.refused(
    s.run(archive(entries, members, { index: { ...index, arch: other } })),
    new RegExp(`built for ${other}; this host is ${process.arch}`),
  )
  const r = s.run(archive(entries, members), ['--digest', good, '--json'])
  assert.equal(r.status, 0, r.stderr)
  assert.equal(JSON.parse(r.stdout).digest, good)
})

test('a truncated archive is refused (gzip cut, tar cut inside a file, tar without its end marker)', (t) => {
  const s = importSetup(t)
  const { entries, members } = smallRelease()
  const gz = archive(entries, members)
  s.refused(s.run(gz.subarray(0, Math.floor(gz.length * 0.7))), /damaged or truncated|truncated/)
  const tar = gunzipSync(gz)
  const at = tar.indexOf(Buffer.from('#!/bin/sh\necho w1'))
  s.refused(s.run(tar.subarray(0, at + 5)), /truncated/)
  s.refused(s.run(tar.subarray(0, tar.length - 1024)), /ends before its end marker/)
})

test('sizes: over the caps or the free space, or a header larger than the index says, refused before extraction', (t) => {
  const s = importSetup(t)
  const TiB = 2 ** 40
  const started = Date.now()
  // The index declares a 2 TiB file (the archive is a few KB): refused on the cap, nothing read further.
  {
    const { entries, members } = smallRelease()
    entries.push({ path: 'xo/huge', type: 'file', mode: 0o644, size: 2 * TiB, sha256: 'a'.repeat(64) })
    members.push({ name: 'release/xo/huge', flag: '0', mode: 0o644, size: 2 * TiB, paxSize: true })
    s.refused(s.run(archive(entries, members)), /more than the limit of/)
    // Above the cap it is the free space that refuses.
    s.refused(
      s.run(archive(entries, members), ['--max-bytes', String(4 * TiB)]),
      /needs about \d+ bytes; .* free/,
    )
  }
  // The index says 10 bytes, the header (pax size) 2 TiB: refused on the header, before its data.
  {
    const { entries, members } = smallRelease()
    const f = fileEntry('xo/huge', Buffer.alloc(10))
    entries.push(f.entry)
    members.push({ ...f.member, size: 2 * TiB, paxSize: true })
    s.refused(s.run(archive(entries, members)), /xo\/huge is 2199023255552 bytes, the index says 10/)
  }
  // Entry count and byte caps from the command line.
  {
    const { entries, members } = smallRelease()
    s.refused(
      s.run(archive(entries, members), ['--max-entries', '5']),
      /11 entries, more than the limit of 5/,
    )
    s.refused(s.run(archive(entries, members), ['--max-bytes', '10']), /more than the limit of 10/)
  }
  assert.ok(Date.now() - started < 30_000, 'refusals read nothing large')
})

test('members the index does not list, or an index that is not first, are refused', (t) => {
  const s = importSetup(t)
  const { entries, members } = smallRelease()
  s.refused(
    s.run(archive(entries, [...members, fileEntry('xo/extra', Buffer.from('x')).member])),
    /"xo\/extra" is not listed/,
  )
  s.refused(
    s.run(archive(entries, members.slice(1))),
    /listed entries are missing|comes before its directory/,
  )
  // The index as the second member: the first is a member of the release.
  const [first] = members
  assert.ok(first)
  const indexMember = gunzipSync(archive(entries, [])).subarray(0, -1024)
  s.refused(
    s.run(Buffer.concat([tarOf([first]).subarray(0, -1024), indexMember, Buffer.alloc(1024)])),
    /the first member must be xoa-release\.json/,
  )
  const bogus = Buffer.from(JSON.stringify({ hello: 'world' }))
  s.refused(s.run(archive([], [], { index: JSON.parse(bogus.toString()) })), /not a valid index/)
})

test('a release id in the store with other content is refused; with the same content nothing is done', (t) => {
  const s = importSetup(t)
  const { entries, members } = smallRelease()
  const r = s.run(archive(entries, members))
  assert.equal(r.status, 0, r.stderr)
  const imported = snapshot(s.state)
  const other = smallRelease()
  const m = other.members.find((x) => x.name === 'release/xo/package.json')
  const e = other.entries.find((x) => x.path === 'xo/package.json')
  assert.ok(m && e && e.type === 'file')
  const f = fileEntry('xo/package.json', Buffer.from('{"private":true,"evil":1}'))
  Object.assign(m, f.member)
  Object.assign(e, f.entry)
  const refused = s.run(archive(other.entries, other.members))
  assert.notEqual(refused.status, 0)
  assert.match(refused.stderr, new RegExp(`release ${ID} is already in the store with other content`))
  assert.deepEqual(snapshot(s.state), imported, 'the existing release is untouched')
  const again = s.run(archive(entries, members), ['--json'])
  assert.equal(again.status, 0, again.stderr)
  assert.equal(JSON.parse(again.stdout).status, 'present')
  assert.deepEqual(snapshot(s.state), imported)
})

test('while an import runs its staging dir is root-only and the release is not visible under its id', async (t) => {
  const s = importSetup(t)
  const { entries, members } = smallRelease()
  const tar = gunzipSync(archive(entries, members))
  const child = spawn(process.execPath, [XOA_BIN, 'releases', 'import', '-', '--spec', s.spec], {
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  t.after(() => child.kill('SIGKILL'))
  let err = ''
  child.stderr.on('data', (d) => {
    err += d
  })
  const exited = new Promise<number | null>((r) => child.once('exit', r))
  // Everything but the last file and the end marker: the import is mid-way, waiting for more.
  const cut = tar.indexOf(Buffer.from('#!/bin/sh\necho w1'))
  child.stdin.write(tar.subarray(0, cut))
  const releases = join(s.state, 'releases')
  let staging: string | undefined
  for (let i = 0; i < 200 && !staging; i++) {
    await new Promise((r) => setTimeout(r, 50))
    staging = readdirSync(releases).find(
      (n) => n.startsWith('.tmp-import-') && existsSync(join(releases, n, 'xo/packages/w1/package.json')),
    )
  }
  assert.ok(staging, `a staging dir appears: ${readdirSync(releases)} ${err}`)
  const st = lstatSync(join(releases, staging))
  assert.deepEqual([st.uid, st.mode & 0o7777], [process.getuid?.(), 0o700], 'root-only while it is filled')
  assert.ok(!existsSync(join(releases, ID)), 'nothing is visible under the id yet')
  child.stdin.end(tar.subarray(cut))
  assert.equal(await exited, 0, err)
  assert.ok(!existsSync(join(releases, staging)))
  assert.equal(lstatSync(join(releases, ID)).mode & 0o7777, 0o755)
})
