import assert from 'node:assert/strict'
import { test } from 'node:test'
import { archiveName, archivesToRemove, isArchiveName, ManifestSchema } from '../../src/backup/format.ts'

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
    mode: 0o600,
    uid: 0,
    gid: 0,
  })
  const manifest = (path: string) => ({
    format: 'xoa-backup/1',
    xoaVersion: '0',
    createdAt: '',
    hostname: '',
    specHash: '',
    release: null,
    consistency: { redis: 'atomic', files: 'live' },
    redis: { sha256: 'b'.repeat(64), size: 0, keys: 0, databases: {} },
    roots: {},
    files: [entry(path)],
    skipped: [],
  })
  assert.ok(ManifestSchema.safeParse(manifest('leveldb/CURRENT')).success)
  for (const bad of ['../etc/shadow', '/etc/shadow', 'a/../../b', 'a//b', './a'])
    assert.ok(!ManifestSchema.safeParse(manifest(bad)).success, bad)
})
