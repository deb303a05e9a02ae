// The release archive's own tar layer against GNU tar: what xoa writes, tar(1) reads (long names and link
// targets through pax headers, as real XO's node_modules needs); what GNU tar writes, xoa's parser reads.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { END, header, type MemberHeader, padding, TarError, TarReader } from '../../src/release/tar.ts'
import { tempDir, xoa } from '../helpers.ts'

function read(buf: Buffer, chunk = 37): { h: MemberHeader; data: string }[] {
  const out: { h: MemberHeader; data: string }[] = []
  const r = new TarReader({
    member: (h) => out.push({ h, data: '' }),
    data: (c) => {
      const last = out.at(-1)
      if (last) last.data += c.toString()
    },
    end: () => undefined,
  })
  // Odd chunk sizes: headers and data split across pushes.
  for (let i = 0; i < buf.length; i += chunk) r.push(buf.subarray(i, i + chunk))
  r.finish()
  return out
}

const longDir = `xo/node_modules/${'@scope-with-a-long-name/'.repeat(4)}pkg`
const longLink = `../${'../'.repeat(30)}packages/w1`

test("xoa's writer: GNU tar lists long names and link targets exactly, and xoa's reader agrees", (t) => {
  const dir = tempDir(t)
  const data = Buffer.from('héllo\n')
  const tar = Buffer.concat([
    header(longDir, 'dir', 0o755, 0),
    header(`${longDir}/file-é.txt`, 'file', 0o644, data.length),
    data,
    padding(data.length),
    header(`${longDir}/link`, 'symlink', 0o777, 0, longLink),
    END,
  ])
  writeFileSync(join(dir, 'a.tar'), tar)
  const listed = execFileSync('tar', ['-tvf', join(dir, 'a.tar')], { encoding: 'utf8' })
    .trim()
    .split('\n')
  assert.equal(listed.length, 3)
  assert.ok(listed[0]?.endsWith(` ${longDir}/`), listed[0])
  assert.ok(listed[1]?.endsWith(` ${longDir}/file-é.txt`), listed[1])
  assert.ok(listed[2]?.endsWith(` ${longDir}/link -> ${longLink}`), listed[2])
  const got = read(tar)
  assert.deepEqual(
    got.map(({ h, data }) => [h.name, h.type, h.mode, h.size, h.linkname, data]),
    [
      [`${longDir}/`, 'dir', 0o755, 0, '', ''],
      [`${longDir}/file-é.txt`, 'file', 0o644, data.length, '', 'héllo\n'],
      [`${longDir}/link`, 'symlink', 0o777, 0, longLink, ''],
    ],
  )
})

test("GNU tar's writer (gnu and posix formats, long names): xoa's reader gets every member", (t) => {
  const dir = tempDir(t)
  const tree = join(dir, 'tree')
  mkdirSync(join(tree, longDir), { recursive: true })
  writeFileSync(join(tree, longDir, 'f'), 'content')
  symlinkSync(longLink, join(tree, longDir, 'l'))
  for (const format of ['gnu', 'posix']) {
    execFileSync('tar', [`--format=${format}`, '-cf', join(dir, `${format}.tar`), '-C', tree, 'xo'])
    const got = read(readFileSync(join(dir, `${format}.tar`)), 512 * 3 + 11)
    const byName = new Map(got.map((m) => [m.h.name.replace(/\/$/, ''), m]))
    assert.equal(byName.get(`${longDir}/f`)?.data, 'content', format)
    assert.equal(byName.get(`${longDir}/l`)?.h.linkname, longLink, format)
    assert.equal(byName.get(longDir)?.h.type, 'dir', format)
  }
})

test('a damaged header or a missing end marker is an error, not a shorter archive', () => {
  const tar = Buffer.concat([header('a', 'file', 0o644, 1), Buffer.from('x'), padding(1), END])
  const bad = Buffer.from(tar)
  bad[0] = 0x62 // the name changes, the checksum does not
  assert.throws(() => read(bad), TarError)
  assert.throws(() => read(tar.subarray(0, 1024)), /ends before its end marker/)
})

test('--help of export and import says what they check', () => {
  const im = xoa(['releases', 'import', '--help'])
  assert.equal(im.status, 0)
  assert.match(im.stdout, /--digest <sha256>/)
  assert.match(im.stdout, /relative symlinks/)
  const ex = xoa(['release', 'export', '--help'])
  assert.equal(ex.status, 0)
  assert.match(ex.stdout, /-o, --out <file>/)
})
