// The backup key: made once by the first backup, root-only, never archived; a new host restores an old
// host's archive only with a copy of that key (`xoa restore --key FILE`), and then keeps it as its own.
import assert from 'node:assert/strict'
import { copyFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { xoa } from '../helpers.ts'
import { makeHost } from './fixture.ts'
import { fingerprint, withDb } from './redis-server.ts'

test('a new host restores an old host archive with --key FILE only, then adopts that key', async (t) => {
  const old = await makeHost(t)
  const b = xoa(['backup', '--spec', old.specFile, '--json'], { env: old.env })
  assert.equal(b.status, 0, b.stderr)
  const archive: string = JSON.parse(b.stdout).archive
  const oldKey = readFileSync(join(old.secretsDir, 'backup-key'), 'utf8')
  const redisThen = await fingerprint(old.socket)
  const again = xoa(['backup', '--spec', old.specFile, '--json'], { env: old.env })
  assert.equal(again.status, 0, again.stderr)
  assert.equal(readFileSync(join(old.secretsDir, 'backup-key'), 'utf8'), oldKey, 'made once, then kept')

  // The new host: its own state dir (no key yet) and Redis.
  const fresh = await makeHost(t)
  const fresh2 = JSON.parse(readFileSync(fresh.specFile, 'utf8'))
  fresh2.xo.stateDir = join(fresh.dir, 'new-state')
  writeFileSync(fresh.specFile, JSON.stringify(fresh2))
  const newSecrets = join(fresh.dir, 'new-state', 'secrets')
  await withDb(fresh.socket, 0, (c) => c.flushAll())

  const without = xoa(['restore', archive, '--spec', fresh.specFile, '--yes'], { env: fresh.env })
  assert.equal(without.status, 1, without.stderr)
  assert.match(without.stderr, /this host has no backup key/)
  assert.match(without.stderr, /--key FILE/)
  assert.ok(!existsSync(join(newSecrets, 'backup-key')), 'restore never makes a key by itself')

  const wrong = join(fresh.dir, 'wrong-key')
  writeFileSync(wrong, `${'ab'.repeat(32)}\n`)
  const withWrong = xoa(['restore', archive, '--spec', fresh.specFile, '--yes', '--key', wrong], {
    env: fresh.env,
  })
  assert.equal(withWrong.status, 1)
  assert.match(withWrong.stderr, /signed with another backup key/)

  const keyCopy = join(fresh.dir, 'old-host-backup-key')
  copyFileSync(join(old.secretsDir, 'backup-key'), keyCopy)
  const r = xoa(['restore', archive, '--spec', fresh.specFile, '--yes', '--key', keyCopy], {
    env: fresh.env,
  })
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, /now uses the key from/)
  assert.deepEqual(await fingerprint(fresh.socket), redisThen)
  assert.equal(readFileSync(join(newSecrets, 'backup-key'), 'utf8'), oldKey, 'the new host adopted the key')
  const st = statSync(join(newSecrets, 'backup-key'))
  assert.deepEqual([st.uid, st.mode & 0o777], [0, 0o600])
  // From now on the old archives restore without --key.
  const plain = xoa(['restore', archive, '--spec', fresh.specFile, '--yes'], { env: fresh.env })
  assert.equal(plain.status, 0, plain.stderr)
})
