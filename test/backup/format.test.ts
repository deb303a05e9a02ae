import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  archiveName,
  archivesToRemove,
  isArchiveName,
  ManifestSchema,
  nextArchiveName,
} from '../../src/backup/format.ts'

test('archive names are UTC, sortable, and numbered within one second', () => {
  const at = new Date('2026-08-21T10:15:00.456Z')
  assert.equal(archiveName(at), 'xoa-backup-20260821T101500Z.tar.gz')
  assert.equal(archiveName(at, 2), 'xoa-backup-20260821T101500Z-2.tar.gz')
  assert.ok(isArchiveName(archiveName(at, 2)))
  for (const other of [
    'xoa-backup-by-hand.tar.gz',
    'notes.txt',
    '.xoa-backup-20260821T101500Z.tar.gz.ab12.tmp',
  ])
    assert.ok(!isArchiveName(other), other)
})

test('retention removes the oldest xoa archives beyond keep, numbered ones in order', () => {
  const names = [
    'xoa-backup-20260821T101500Z-1.tar.gz',
    'notes.txt',
    'xoa-backup-20260820T000000Z.tar.gz',
    'xoa-backup-20260821T101500Z.tar.gz',
    'xoa-backup-20260821T101500Z-10.tar.gz',
    'xoa-backup-20260821T101500Z-2.tar.gz',
  ]
  assert.deepEqual(archivesToRemove(names, 2), [
    'xoa-backup-20260820T000000Z.tar.gz',
    'xoa-backup-20260821T101500Z.tar.gz',
    'xoa-backup-20260821T101500Z-1.tar.gz',
  ])
  assert.deepEqual(archivesToRemove(names, 10), [])
})

test('the manifest refuses entry paths that could escape their section', () => {
  const entry = (path: string) => ({
    type: 'file',
    section: 'data',
    path,
    size: 1,
    sha256: 'a'.repeat(64),
  })
  const manifest = (path: string) => ({
    format: 'xoa-backup/2',
    xoaVersion: '0',
    createdAt: '',
    hostname: '',
    specHash: '',
    release: null,
    consistency: { redis: 'atomic', files: 'live' },
    redis: { sha256: 'b'.repeat(64), size: 0, keys: 0, databases: {} },
    roots: {},
    files: [entry(path)] as unknown[],
    skipped: [],
  })
  assert.ok(ManifestSchema.safeParse(manifest('leveldb/CURRENT')).success)
  for (const bad of ['../etc/shadow', '/etc/shadow', 'a/../../b', 'a//b', './a'])
    assert.ok(!ManifestSchema.safeParse(manifest(bad)).success, bad)
  // Nothing but files and directories, and no owner or mode: restore takes those from its own rules.
  const withExtra = (e: Record<string, unknown>) => ({ ...manifest('x'), files: [e] })
  for (const crafted of [
    { type: 'symlink', section: 'data', path: 'x', target: '/etc/shadow' },
    { ...entry('x'), mode: 0o4755, uid: 0, gid: 0 },
    { type: 'dir', section: 'data', path: 'd', mode: 0o777 },
  ])
    assert.ok(!ManifestSchema.safeParse(withExtra(crafted)).success, JSON.stringify(crafted))
  assert.ok(
    !ManifestSchema.safeParse({
      ...manifest('x'),
      roots: { data: { dir: '/', present: true, mode: 0o777, uid: 65534, gid: 0 } },
    }).success,
  )
})

test('a backup name is never reused: after the highest of its second, and after the newest there', () => {
  const at = new Date('2026-08-21T10:15:00.400Z')
  const T = 'xoa-backup-20260821T101500Z'
  assert.equal(nextArchiveName([], at), `${T}.tar.gz`)
  // keepBackups = 2, four backups in one second: retention removed T and T-1, T-2 and T-3 are left.
  let names: string[] = []
  const made: string[] = []
  for (let i = 0; i < 4; i++) {
    const n = nextArchiveName(names, at)
    made.push(n)
    names = [...names, n]
    names = names.filter((x) => !archivesToRemove(names, 2, n).includes(x))
  }
  assert.deepEqual(made, [`${T}.tar.gz`, `${T}-1.tar.gz`, `${T}-2.tar.gz`, `${T}-3.tar.gz`])
  assert.deepEqual(names, [`${T}-2.tar.gz`, `${T}-3.tar.gz`], 'the newest two are kept')
  // A clock set back: the new name still sorts after the newest archive, so retention does not take it.
  const later = 'xoa-backup-20260821T120000Z-4.tar.gz'
  assert.equal(nextArchiveName([later], at), 'xoa-backup-20260821T120000Z-5.tar.gz')
  assert.deepEqual(archivesToRemove([`${T}.tar.gz`, later], 1, `${T}.tar.gz`), [])
})
