// Backups of the hosts xoa makes, whatever their layout and size: `xoa up`'s config under the state dir
// (issue 12 item 2), names never reused within one second (item 6), a 2.1 GiB file (issue 10 finding 14).
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chownSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { gunzipSync } from 'node:zlib'
import { createBackup } from '../../src/backup/backup.ts'
import { noServiceControl } from '../../src/backup/services.ts'
import { loadSpecFile } from '../../src/spec/load.ts'
import { xoa } from '../helpers.ts'
import { hostFiles, makeHost, SERVICE } from './fixture.ts'

test('under xoa up, backup takes the config and session secret from the state dir, and restore puts them back', async (t) => {
  const h = await makeHost(t, { mode: 'foreground' })
  assert.match(h.configDir, /state\/home\/\.config\/xo-server$/)
  const before = hostFiles(h)
  const b = xoa(['backup', '--spec', h.specFile, '--json'], { env: h.env })
  assert.equal(b.status, 0, b.stderr)
  const archive: string = JSON.parse(b.stdout).archive
  const tar = gunzipSync(readFileSync(archive))
  assert.ok(tar.includes("sessionSecret = 's3cr3t'"), 'the session secret is in the archive')
  const members = execFileSync('tar', ['-tzf', archive], { encoding: 'utf8' }).split('\n')
  for (const f of ['files/config/config.toml', 'files/config/config.z-secrets.toml'])
    assert.ok(members.includes(f), `${f} listed by tar -tzf`)
  const manifest = JSON.parse(execFileSync('tar', ['-xzOf', archive, 'manifest.json'], { encoding: 'utf8' }))
  assert.deepEqual(manifest.roots.config, { dir: h.configDir, present: true })

  writeFileSync(join(h.configDir, 'config.z-secrets.toml'), "[http]\nsessionSecret = 'other'\n")
  rmSync(join(h.configDir, 'config.toml'))
  const r = xoa(['restore', archive, '--spec', h.specFile, '--yes'], { env: h.env })
  assert.equal(r.status, 0, r.stderr)
  const after = hostFiles(h)
  assert.deepEqual(after, before, "restored as `xoa up` keeps them: the service's, 0700/0640/0600")
  assert.equal(after.configRoot, `700 ${SERVICE.uid}:${SERVICE.gid}`)
})

test('four backups in one second with keepBackups = 2: four names, the newest two kept', async (t) => {
  const h = await makeHost(t, 2)
  process.env.XOA_TEST_ROOT = h.env.XOA_TEST_ROOT
  const spec = loadSpecFile(h.specFile)
  const now = new Date('2026-08-21T10:15:00.250Z')
  const made: string[] = []
  for (let i = 0; i < 4; i++) {
    const r = await createBackup(spec, { services: noServiceControl, now })
    made.push(r.archive)
  }
  assert.equal(new Set(made).size, 4, `a name was reused: ${made.join(' ')}`)
  const left = readdirSync(h.backupsDir).sort()
  assert.deepEqual(
    left,
    made.slice(-2).map((p) => p.split('/').pop()),
    'the newest two are kept, the last one written among them',
  )
})

test('a 2.1 GiB (sparse) file in the data dir is backed up and restored, streaming, still sparse', async (t) => {
  const h = await makeHost(t)
  const big = join(h.dataDir, 'leveldb', 'big.ldb')
  const size = 2100 * 1024 * 1024
  execFileSync('truncate', ['-s', String(size), big])
  writeFileSync(big, 'tail', { flag: 'r+' }) // some data at its start; the rest a hole
  chownSync(big, SERVICE.uid, SERVICE.gid)
  const b = xoa(['backup', '--spec', h.specFile, '--json'], { env: h.env })
  assert.equal(b.status, 0, b.stderr)
  const archive: string = JSON.parse(b.stdout).archive
  assert.ok(statSync(archive).size < 64 << 20, 'the hole is not stored')
  rmSync(big)
  const r = xoa(['restore', archive, '--spec', h.specFile, '--yes'], { env: h.env })
  assert.equal(r.status, 0, r.stderr)
  const st = statSync(big)
  assert.equal(st.size, size)
  assert.ok(st.blocks * 512 < 64 << 20, `restored sparse (${st.blocks * 512} bytes on disk)`)
  assert.deepEqual([st.uid, st.mode & 0o7777], [SERVICE.uid, 0o640])
  const head = Buffer.alloc(8)
  const { openSync, readSync, closeSync } = await import('node:fs')
  const fd = openSync(big, 'r')
  readSync(fd, head, 0, 8, 0)
  closeSync(fd)
  assert.equal(head.subarray(0, 4).toString(), 'tail')
  assert.deepEqual([...head.subarray(4)], [0, 0, 0, 0])
})

test('odd names the service account can make never make the archive unrestorable', async (t) => {
  const h = await makeHost(t)
  const names = ['accentué.ldb', 'back\\slash', 'with space', '-rw-r--r-- 0 1 2026-01-01 00:00 fake']
  for (const n of [...names, 'new\nline']) {
    writeFileSync(join(h.dataDir, n), n)
    chownSync(join(h.dataDir, n), SERVICE.uid, SERVICE.gid)
  }
  const b = xoa(['backup', '--spec', h.specFile, '--json'], { env: h.env })
  assert.equal(b.status, 0, b.stderr)
  const { archive, skipped } = JSON.parse(b.stdout)
  assert.deepEqual(
    (skipped as string[]).filter((s) => s.includes('new')),
    [`${JSON.stringify(join(h.dataDir, 'new\nline'))} (control character in its name)`],
  )
  for (const n of names) rmSync(join(h.dataDir, n))
  const r = xoa(['restore', archive, '--spec', h.specFile, '--yes'], { env: h.env })
  assert.equal(r.status, 0, r.stderr)
  for (const n of names) assert.equal(readFileSync(join(h.dataDir, n), 'utf8'), n)
  assert.ok(
    !readdirSync(h.dataDir).includes('new\nline'),
    'the data dir is the archive: the skipped file is gone',
  )
})

test('an archive that would not fit is refused before anything is unpacked (real tmpfs, 8 MiB)', async (t) => {
  const h = await makeHost(t)
  writeFileSync(join(h.dataDir, 'leveldb', '000007.ldb'), randomBytes(5 << 20)) // incompressible
  chownSync(join(h.dataDir, 'leveldb', '000007.ldb'), SERVICE.uid, SERVICE.gid)
  const out = join(h.dir, 'big.tar.gz')
  mkdirSync(h.backupsDir, { recursive: true, mode: 0o700 })
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m,mode=0700', 'tmpfs', h.backupsDir])
  try {
    const b = xoa(['backup', '--spec', h.specFile, '--out', out], { env: h.env })
    assert.equal(b.status, 0, b.stderr)
    const before = hostFiles(h)
    // the 5 MiB copy of the archive leaves ~3 MiB: the 5 MiB tar stream cannot be unpacked beside it
    const r = xoa(['restore', out, '--spec', h.specFile, '--yes'], { env: h.env })
    assert.equal(r.status, 1, r.stderr)
    assert.match(r.stderr, /unpacks to \d+ bytes; .* has \d+ free\. Nothing was changed/)
    assert.deepEqual(readdirSync(h.backupsDir), [], 'the staging dir is gone')
    assert.deepEqual(hostFiles(h), before)
  } finally {
    execFileSync('umount', [h.backupsDir])
  }
})
