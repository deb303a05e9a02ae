// xoa backup → change everything → xoa restore gives back exactly what was there, against a real Redis.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import {
  chmodSync,
  existsSync,
  lstatSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { gunzipSync, gzipSync } from 'node:zlib'
import { tempDir, XOA_BIN, xoa } from '../helpers.ts'
import { hostFiles, makeHost, type TestHost } from './fixture.ts'
import { fingerprint, withDb } from './redis-server.ts'

/** Run `xoa backup` while watching its directory: every file or dir that ever appears there must be private. */
async function watchedBackup(
  h: TestHost,
): Promise<{ status: number; stdout: string; seen: Map<string, number> }> {
  const child = spawn(process.execPath, [XOA_BIN, 'backup', '--spec', h.specFile, '--json'], {
    env: { ...process.env, ...h.env, NO_COLOR: '1' },
  })
  let stdout = ''
  child.stdout.on('data', (c) => {
    stdout += c
  })
  child.stderr.on('data', (c) => process.stderr.write(c))
  let done = false
  const status = new Promise<number>((r) =>
    child.on('close', (code) => {
      done = true
      r(code ?? -1)
    }),
  )
  const seen = new Map<string, number>()
  const scan = (d: string) => {
    let names: string[]
    try {
      names = readdirSync(d)
    } catch {
      return
    }
    for (const n of names) {
      const p = join(d, n)
      try {
        const st = lstatSync(p)
        seen.set(p, (seen.get(p) ?? 0) | (st.mode & 0o077))
        if (st.isDirectory()) scan(p)
      } catch {}
    }
  }
  while (!done) {
    scan(h.backupsDir)
    await new Promise((r) => setImmediate(r))
  }
  return { status: await status, stdout, seen }
}

test('backup, change everything, restore: Redis keys, values, TTLs and files are identical', async (t) => {
  const h = await makeHost(t)
  const redisBefore = await fingerprint(h.socket)
  const filesBefore = hostFiles(h)
  assert.ok(Object.keys(redisBefore).length >= 12, 'the fixture filled Redis')

  const b = await watchedBackup(h)
  assert.equal(b.status, 0)
  const result = JSON.parse(b.stdout)
  assert.equal(result.keys, Object.keys(redisBefore).length)
  assert.equal(result.consistency.redis, 'atomic')
  assert.equal(result.release.version, '6.7.1')
  assert.ok(result.archive.startsWith(`${h.backupsDir}/xoa-backup-`))
  assert.equal(statSync(result.archive).mode & 0o777, 0o600, 'archive is 0600')
  assert.equal(statSync(h.backupsDir).mode & 0o777, 0o700)
  assert.ok(b.seen.size > 1, 'the watcher saw the backup being written')
  for (const [p, bits] of b.seen) assert.equal(bits, 0, `${p} was readable by group or others at some point`)
  assert.deepEqual(readdirSync(h.backupsDir), [result.archive.split('/').pop()], 'no temp files left behind')

  const listing = readFileSync(result.archive)
  assert.ok(!listing.includes('xcp-ng-root-password'), 'the archive is compressed, not plain text')
  const key = readFileSync(join(h.secretsDir, 'backup-key'), 'utf8').trim()
  assert.match(key, /^[0-9a-f]{64}$/)
  const keyStat = statSync(join(h.secretsDir, 'backup-key'))
  assert.deepEqual([keyStat.mode & 0o777, keyStat.uid], [0o600, 0], 'the key is root-only')
  assert.ok(!gunzipSync(listing).includes(key), 'the key is not in the archive')

  // Change, add and delete keys and files.
  await withDb(h.socket, 0, async (c) => {
    await c.hSet('xo:user:u1', 'email', 'intruder@example.org')
    await c.del(['xo:server:s1', 'xo:remote:r1'])
    await c.sRem('xo:server_ids', 's1')
    await c.set('xo:new-key', 'added after the backup')
    await c.pExpire('xo:token:abc123', 5_000)
    await c.persist('xo:plain')
  })
  await withDb(h.socket, 3, (c) => c.flushDb())
  writeFileSync(join(h.configDir, 'config.toml'), 'changed\n')
  chmodSync(join(h.configDir, 'config.z-secrets.toml'), 0o644)
  rmSync(join(h.secretsDir, 'admin-password'))
  writeFileSync(join(h.dataDir, 'leveldb', '000099.ldb'), 'newer table')
  writeFileSync(join(h.dataDir, 'leveldb', 'CURRENT'), 'MANIFEST-000098\n')
  chmodSync(h.dataDir, 0o755)
  const redisChanged = await fingerprint(h.socket)
  assert.notDeepEqual(redisChanged, redisBefore)

  const r = xoa(['restore', result.archive, '--spec', h.specFile, '--yes', '--json'], { env: h.env })
  assert.equal(r.status, 0, r.stderr)
  const restored = JSON.parse(r.stdout)
  assert.equal(restored.keys, Object.keys(redisBefore).length)
  assert.equal(restored.health.checked, false, 'no systemd here: the health check is skipped and says so')

  assert.deepEqual(await fingerprint(h.socket), redisBefore)
  assert.deepEqual(hostFiles(h), filesBefore)
  assert.ok(!readdirSync(h.dataDir).some((n) => n.startsWith('.xoa-')), 'no swap dirs left in the data dir')
  assert.deepEqual(
    readdirSync(h.backupsDir).filter((n) => n.startsWith('.')),
    [],
    'the restore staging dir is removed',
  )
})

test('a damaged archive is refused before anything changes', async (t) => {
  const h = await makeHost(t)
  const b = xoa(['backup', '--spec', h.specFile, '--json'], { env: h.env })
  assert.equal(b.status, 0, b.stderr)
  const archive: string = JSON.parse(b.stdout).archive
  await withDb(h.socket, 0, (c) => c.set('xo:plain', 'changed after the backup'))
  writeFileSync(join(h.configDir, 'config.toml'), 'changed\n')
  const redisNow = await fingerprint(h.socket)
  const filesNow = hostFiles(h)

  // A flipped byte in the compressed stream: gzip's CRC or tar catches it.
  const bytes = readFileSync(archive)
  bytes[Math.floor(bytes.length / 2)]! ^= 0xff
  const flipped = join(h.dir, 'flipped.tar.gz')
  writeFileSync(flipped, bytes)
  // A member changed inside a well-formed archive (the tar re-compressed): the manifest's sha256 catches it.
  const tar = gunzipSync(readFileSync(archive))
  const at = tar.indexOf('s3cr3t')
  assert.ok(at > 0)
  tar[at] = 'X'.charCodeAt(0)
  const tampered = join(h.dir, 'tampered.tar.gz')
  writeFileSync(tampered, gzipSync(tar))
  // The same change with the archive's own signature header kept: the MAC no longer matches.
  const resigned = join(h.dir, 'kept-header.tar.gz')
  writeFileSync(resigned, Buffer.concat([bytes.subarray(0, 56), gzipSync(tar).subarray(10)]))

  for (const bad of [flipped, tampered, resigned]) {
    const r = xoa(['restore', bad, '--spec', h.specFile, '--yes'], { env: h.env })
    assert.equal(r.status, 1, `${bad}: ${r.stderr}`)
    assert.match(r.stderr, /not a usable xoa backup|failed verification/)
    assert.match(r.stderr, /next: /)
    assert.deepEqual(await fingerprint(h.socket), redisNow, 'Redis untouched')
    assert.deepEqual(hostFiles(h), filesNow, 'files untouched')
  }
  assert.match(
    xoa(['restore', tampered, '--spec', h.specFile, '--yes'], { env: h.env }).stderr,
    /no xoa signature/,
  )
  assert.match(
    xoa(['restore', resigned, '--spec', h.specFile, '--yes'], { env: h.env }).stderr,
    /signature does not match/,
  )
})

test('restore refuses without --yes when stdin is not a terminal', async (t) => {
  const h = await makeHost(t)
  const b = xoa(['backup', '--spec', h.specFile, '--json'], { env: h.env })
  assert.equal(b.status, 0, b.stderr)
  await withDb(h.socket, 0, (c) => c.set('xo:plain', 'changed after the backup'))
  const before = await fingerprint(h.socket)
  const r = xoa(['restore', JSON.parse(b.stdout).archive, '--spec', h.specFile], {
    env: h.env,
    input: 'yes\n',
  })
  assert.equal(r.status, 2)
  assert.match(r.stderr, /stdin is not a terminal/)
  assert.match(r.stderr, /--yes/)
  assert.deepEqual(await fingerprint(h.socket), before)
})

test('retention keeps exactly keepBackups archives and touches nothing else', async (t) => {
  const h = await makeHost(t, 2)
  const first = xoa(['backup', '--spec', h.specFile, '--json'], { env: h.env })
  assert.equal(first.status, 0, first.stderr)
  writeFileSync(join(h.backupsDir, 'notes.txt'), 'mine')
  writeFileSync(join(h.backupsDir, 'xoa-backup-by-hand.tar.gz'), 'mine too')
  const made = [JSON.parse(first.stdout).archive]
  for (let i = 0; i < 3; i++) {
    const r = xoa(['backup', '--spec', h.specFile, '--json'], { env: h.env })
    assert.equal(r.status, 0, r.stderr)
    made.push(JSON.parse(r.stdout).archive)
  }
  assert.equal(new Set(made).size, 4, 'each backup has its own name, even within one second')
  const left = readdirSync(h.backupsDir).sort()
  const kept = made.slice(-2).map((p) => p.split('/').pop())
  assert.deepEqual(left, [...kept, 'notes.txt', 'xoa-backup-by-hand.tar.gz'].sort())
  for (const p of made.slice(0, 2)) assert.ok(!existsSync(p))
})

test('backup --out writes there, 0600, and refuses to overwrite', async (t) => {
  const h = await makeHost(t)
  const out = join(h.dir, 'elsewhere.tar.gz')
  const r = xoa(['backup', '--spec', h.specFile, '--out', out], { env: h.env })
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, /backup written: .*elsewhere\.tar\.gz/)
  assert.equal(statSync(out).mode & 0o777, 0o600)
  const again = xoa(['backup', '--spec', h.specFile, '--out', out], { env: h.env })
  assert.equal(again.status, 1)
  assert.match(again.stderr, /already exists/)
})

test('backups inside the data dir are refused: the next backup would swallow them, a restore delete them', (t) => {
  const dir = tempDir(t)
  const spec = join(dir, 'xoa.json')
  // A state dir (and so its backups) inside the data dir: the spec itself refuses it.
  writeFileSync(
    spec,
    JSON.stringify({ xo: { dataDir: join(dir, 'data'), stateDir: join(dir, 'data', 'xoa') } }),
  )
  const r = xoa(['backup', '--spec', spec])
  assert.equal(r.status, 2)
  assert.match(r.stderr, /xo\.dataDir: must not be or contain xo\.stateDir/)
  assert.ok(!existsSync(join(dir, 'data')), 'nothing was created')
  // An archive asked for inside the data dir: backup refuses it.
  writeFileSync(spec, JSON.stringify({ xo: { dataDir: join(dir, 'data'), stateDir: join(dir, 'state') } }))
  const out = xoa(['backup', '--spec', spec, '--out', join(dir, 'data', 'b.tar.gz')])
  assert.equal(out.status, 2)
  assert.match(out.stderr, /inside xo\.dataDir/)
  assert.ok(!existsSync(join(dir, 'data')), 'nothing was created')
})
