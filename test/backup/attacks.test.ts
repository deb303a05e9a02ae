// Restore and backup turned against root (issue 10, findings 3, 4, 7): crafted archives, and the service
// account (`nobody` here, through setpriv) racing root in the data dir it owns. Every test asserts on what
// ended up on disk — owner, mode and content of the victim — not only on xoa's verdict.
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { gunzipSync } from 'node:zlib'
import { xoa } from '../helpers.ts'
import { hostKeyOf, pack, readManifest, sign, unpack } from './craft.ts'
import { giveToService, makeHost, SERVICE, type TestHost } from './fixture.ts'
import { fingerprint } from './redis-server.ts'

/** Run `script` (node, as the service account) with `args` until the test kills it. */
function asService(t: { after(fn: () => unknown): void }, script: string, args: string[]): ChildProcess {
  const child = spawn(
    'setpriv',
    [
      `--reuid=${SERVICE.uid}`,
      `--regid=${SERVICE.gid}`,
      '--clear-groups',
      '--',
      process.execPath,
      '-e',
      script,
      ...args,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  )
  t.after(() => child.kill('SIGKILL'))
  return child
}

/** A root-only directory holding one root-only file: what the attacks try to reach. */
function victim(h: TestHost): { dir: string; file: string; secret: string; check(): void } {
  const dir = join(h.dir, 'victim')
  mkdirSync(dir, { mode: 0o700 })
  const secret = `TOPSECRET-${randomBytes(8).toString('hex')}`
  const file = join(dir, 'shadow')
  writeFileSync(file, secret, { mode: 0o600 })
  return {
    dir,
    file,
    secret,
    check() {
      const d = statSync(dir)
      assert.deepEqual([d.uid, d.gid, d.mode & 0o7777], [0, 0, 0o700], 'victim dir still root:root 0700')
      assert.deepEqual(readdirSync(dir), ['shadow'], 'nothing was written into the victim dir')
      const f = statSync(file)
      assert.deepEqual([f.uid, f.gid, f.mode & 0o7777], [0, 0, 0o600], 'victim file still root:root 0600')
      assert.equal(readFileSync(file, 'utf8'), secret)
    },
  }
}

function backup(h: TestHost, extra: string[] = []): string {
  const r = xoa(['backup', '--spec', h.specFile, '--json', ...extra], { env: h.env })
  assert.equal(r.status, 0, r.stderr)
  return JSON.parse(r.stdout).archive
}

/** Files under `dir` with a setuid, setgid or sticky bit. */
function specialBits(dir: string): string[] {
  const out: string[] = []
  for (const n of readdirSync(dir, { recursive: true }) as string[]) {
    const st = statSync(join(dir, n), { throwIfNoEntry: false })
    if (st && (st.mode & 0o7000) !== 0) out.push(n)
  }
  return out
}

test('a crafted archive is refused before anything is extracted: unsigned, or signed with another key (finding 3)', async (t) => {
  const h = await makeHost(t)
  const archive = backup(h)
  const v = victim(h)
  const work = join(h.dir, 'craft')
  unpack(archive, work)
  // What the review restored: a symlink written through, a setuid-root shell, section roots 0777 and owned by
  // the service, and the attacker's admin password.
  symlinkSync(v.dir, join(work, 'files', 'config', 'evil'))
  copyFileSync('/bin/sh', join(work, 'files', 'data', 'sh'))
  chmodSync(join(work, 'files', 'data', 'sh'), 0o4755)
  writeFileSync(join(work, 'files', 'secrets', 'admin-password'), 'attacker\n')
  const m = readManifest(work)
  m.files.push({
    type: 'symlink',
    section: 'config',
    path: 'evil',
    target: v.dir,
    mode: 0o777,
    uid: 0,
    gid: 0,
  })
  writeFileSync(join(work, 'manifest.json'), JSON.stringify(m))
  const tarGz = pack(work)
  const unsigned = join(h.dir, 'unsigned.tar.gz')
  writeFileSync(unsigned, tarGz)
  const otherKey = join(h.dir, 'other-key.tar.gz')
  writeFileSync(otherKey, sign(tarGz, randomBytes(32)))
  const redis = await fingerprint(h.socket)
  const adminPw = readFileSync(join(h.secretsDir, 'admin-password'), 'utf8')
  for (const [file, why] of [
    [unsigned, /carries no xoa signature/],
    [otherKey, /signed with another backup key/],
  ] as const) {
    const r = xoa(['restore', file, '--spec', h.specFile, '--yes'], { env: h.env })
    assert.equal(r.status, 1, r.stderr)
    assert.match(r.stderr, why)
    assert.match(r.stderr, /nothing was changed/)
    // refused before extraction: no staging dir ever held its members
    assert.deepEqual(
      readdirSync(h.backupsDir).filter((n) => n.startsWith('.')),
      [],
    )
  }
  assert.equal(readFileSync(join(h.secretsDir, 'admin-password'), 'utf8'), adminPw)
  assert.ok(!existsSync(join(h.configDir, 'evil')))
  assert.ok(!existsSync(join(h.dataDir, 'sh')))
  assert.deepEqual(await fingerprint(h.socket), redis)
  v.check()
})

test('even signed with the host key, restore makes only plain files and dirs with its own owners and modes', async (t) => {
  const h = await makeHost(t)
  const archive = backup(h)
  const key = hostKeyOf(h.secretsDir)
  const v = victim(h)

  // A symlink member: refused at the listing, before extraction.
  const a = join(h.dir, 'a')
  unpack(archive, a)
  symlinkSync(v.file, join(a, 'files', 'data', 'link'))
  const withLink = join(h.dir, 'with-link.tar.gz')
  writeFileSync(withLink, sign(pack(a), key))
  const r1 = xoa(['restore', withLink, '--spec', h.specFile, '--yes'], { env: h.env })
  assert.equal(r1.status, 1, r1.stderr)
  assert.match(r1.stderr, /something other than plain files/)
  assert.ok(!existsSync(join(h.dataDir, 'link')))

  // A setuid-root shell, a 0777 dir and root-owned members, listed in the manifest: restored as xo-server's
  // plain files (service-owned 0640, dirs 0750); the section roots keep xoa's modes.
  const b = join(h.dir, 'b')
  unpack(archive, b)
  copyFileSync('/bin/sh', join(b, 'files', 'data', 'sh'))
  chmodSync(join(b, 'files', 'data', 'sh'), 0o4755)
  mkdirSync(join(b, 'files', 'data', 'open'), { mode: 0o777 })
  chmodSync(join(b, 'files', 'data', 'open'), 0o1777)
  chmodSync(join(b, 'files', 'data'), 0o777)
  chmodSync(join(b, 'files', 'secrets'), 0o777)
  const m = readManifest(b)
  const sh = readFileSync('/bin/sh')
  const { createHash } = await import('node:crypto')
  m.files.push(
    {
      type: 'file',
      section: 'data',
      path: 'sh',
      size: sh.length,
      sha256: createHash('sha256').update(sh).digest('hex'),
    },
    { type: 'dir', section: 'data', path: 'open' },
  )
  writeFileSync(join(b, 'manifest.json'), JSON.stringify(m))
  const setuid = join(h.dir, 'setuid.tar.gz')
  writeFileSync(setuid, sign(pack(b), key))
  const r2 = xoa(['restore', setuid, '--spec', h.specFile, '--yes'], { env: h.env })
  assert.equal(r2.status, 0, r2.stderr)
  const st = statSync(join(h.dataDir, 'sh'))
  assert.deepEqual([st.uid, st.gid, st.mode & 0o7777], [SERVICE.uid, SERVICE.gid, 0o640])
  const open = statSync(join(h.dataDir, 'open'))
  assert.deepEqual([open.uid, open.mode & 0o7777], [SERVICE.uid, 0o750])
  assert.deepEqual(specialBits(h.dataDir), [])
  const data = statSync(h.dataDir)
  assert.deepEqual([data.uid, data.gid, data.mode & 0o7777], [SERVICE.uid, SERVICE.gid, 0o750])
  const secrets = statSync(h.secretsDir)
  assert.deepEqual([secrets.uid, secrets.mode & 0o7777], [0, 0o700])
  const config = statSync(h.configDir)
  assert.deepEqual([config.uid, config.gid, config.mode & 0o7777], [0, SERVICE.gid, 0o750])
  v.check()
})

// The service account owns the data dir: while root restores into it, it plants symlinks wherever root
// is about to write — in main's staging dir (<dataDir>/.xoa-restore-*, chowned to it) and in place of
// the directories of the restored tree.
const PLANTER = `
const fs = require('node:fs'), path = require('node:path')
const [data, victim] = process.argv.slice(1)
let n = 0
for (;;) {
  let names = []
  try { names = fs.readdirSync(data) } catch {}
  for (const name of names) {
    const p = path.join(data, name)
    if (name.startsWith('.xoa-restore-'))
      for (const d of ['leveldb', 'zz-later']) try { fs.symlinkSync(victim, path.join(p, d)) } catch {}
  }
  try { fs.renameSync(path.join(data, 'leveldb'), path.join(data, 'moved-' + n++)) } catch {}
  try { fs.symlinkSync(victim, path.join(data, 'leveldb')) } catch {}
}
`

test('restore staging race: the service account planting symlinks in the data dir never reaches a root-only dir (finding 4)', async (t) => {
  const h = await makeHost(t)
  // a directory restored after the 2 MiB table: root is busy copying while the attacker plants
  mkdirSync(join(h.dataDir, 'zz-later'))
  writeFileSync(join(h.dataDir, 'zz-later', 'x'), 'x')
  giveToService(join(h.dataDir, 'zz-later'))
  const archive = backup(h)
  const v = victim(h)
  const planter = asService(t, PLANTER, [h.dataDir, v.dir])
  let ok = 0
  let refused = 0
  for (let i = 0; i < 12; i++) {
    const r = xoa(['restore', archive, '--spec', h.specFile, '--yes'], { env: h.env })
    if (r.status === 0) ok++
    else refused++
    v.check()
  }
  planter.kill('SIGKILL')
  assert.equal(ok + refused, 12)
  // Once the attacker stops, a restore puts the tree back exactly.
  const r = xoa(['restore', archive, '--spec', h.specFile, '--yes'], { env: h.env })
  assert.equal(r.status, 0, r.stderr)
  assert.equal(statSync(join(h.dataDir, 'leveldb')).isDirectory(), true)
  assert.equal(readFileSync(join(h.dataDir, 'leveldb', 'CURRENT'), 'utf8'), 'MANIFEST-000004\n')
  v.check()
})

// Flips a data-dir file between a plain file and a symlink to the root-only victim, as fast as it can.
const FLIPPER = `
const fs = require('node:fs'), path = require('node:path')
const [dir, target] = process.argv.slice(1)
const name = path.join(dir, 'flip')
for (let n = 0; ; n++) {
  try {
    const tmp = path.join(dir, '.t' + n)
    if (n % 2) fs.symlinkSync(target, tmp)
    else fs.writeFileSync(tmp, 'harmless')
    fs.renameSync(tmp, name)
  } catch {}
}
`

test('backup --live: a file flipped to a symlink is skipped, never a root-only file copied (finding 7)', async (t) => {
  const h = await makeHost(t)
  const v = victim(h)
  chmodSync(h.dir, 0o755)
  const dir = join(h.dataDir, 'leveldb')
  const flipper = asService(t, FLIPPER, [dir, v.file])
  let skippedLinks = 0
  for (let i = 0; i < 10; i++) {
    const out = join(h.dir, `live-${i}.tar.gz`)
    const r = xoa(['backup', '--spec', h.specFile, '--live', '--out', out, '--json'], { env: h.env })
    assert.equal(r.status, 0, `backup ${i} crashed: ${r.stderr}`)
    const body = gunzipSync(readFileSync(out))
    assert.ok(!body.includes(v.secret), `archive ${i} holds the root-only file`)
    skippedLinks += (JSON.parse(r.stdout).skipped as string[]).filter((s) => /flip \(symlink/.test(s)).length
  }
  flipper.kill('SIGKILL')
  assert.ok(skippedLinks > 0, 'the flipper did race the backups (some saw the symlink)')
  v.check()
})
