// A container has no `xoa apply`: `xoa build` as root creates the service account and group it builds as,
// with the ids the spec sets, and stops with the field named when an existing account has other ids.
// Real accounts in the real /etc/passwd: a throwaway name, removed afterwards.
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { DEBIAN } from '../../src/platform/debian.ts'
import { setCurrentPlatform } from '../../src/platform/load.ts'
import { validateSpec } from '../../src/spec/load.ts'
import type { XoaError } from '../../src/util/errors.ts'
import { ensureServiceAccount } from '../../src/util/service-account.ts'
import { newRevision } from '../fixtures/monorepo.ts'
import { tempDir, XOA_BIN } from '../helpers.ts'
import { fixtureSetup, privateRuntimes } from './helpers.ts'

const getent = (db: string, key: string) => spawnSync('getent', [db, key], { encoding: 'utf8' })

/** An id no user and no group has. */
function freeId(): number {
  for (;;) {
    const id = 20000 + Math.floor(Math.random() * 40000)
    if (getent('passwd', String(id)).status !== 0 && getent('group', String(id)).status !== 0) return id
  }
}

test('xoa build as root creates the missing service account with the spec ids; other ids are an error', (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root (useradd)')
  const name = `xoatest-${randomBytes(3).toString('hex')}`
  t.after(() => {
    spawnSync('userdel', [name])
    spawnSync('groupdel', [name])
  })
  const f = fixtureSetup(t)
  const uid = freeId()
  const gid = freeId()
  const writeSpec = (service: object, rev = f.rev) =>
    writeFileSync(
      f.spec,
      JSON.stringify({
        xo: { stateDir: f.state },
        source: { url: f.src, rev },
        service: { user: name, group: name, ...service },
      }),
    )
  writeSpec({ uid, gid })
  const runtimes = privateRuntimes(f.dir)
  const xoaBuild = () =>
    spawnSync(process.execPath, [XOA_BIN, 'build', '--spec', f.spec], {
      env: { ...process.env, ...runtimes, NO_COLOR: '1' },
      encoding: 'utf8',
    })
  const r = xoaBuild()
  assert.equal(r.status, 0, r.stdout + r.stderr)
  // What the account databases hold now: the ids asked for, no shell, no password.
  assert.match(
    getent('passwd', name).stdout,
    new RegExp(`^${name}:x:${uid}:${gid}:[^:]*:${f.state}:/usr/sbin/nologin$`, 'm'),
  )
  assert.match(getent('group', name).stdout, new RegExp(`^${name}:x:${gid}:`))
  assert.match(execFileSync('getent', ['shadow', name], { encoding: 'utf8' }), new RegExp(`^${name}:[!*]`))
  const log = readdirSync(join(f.state, 'logs'))
    .map((l) => readFileSync(join(f.state, 'logs', l), 'utf8'))
    .join('\n')
  assert.match(log, new RegExp(`created the service account: group ${name}, user ${name}`))
  // The build really ran as that account.
  assert.match(log, new RegExp(`building xo-server at \\w+ with node v\\S+ as uid ${uid}\\b`))

  // The account exists now with other ids than the spec asks (and there is something to build): a clear error
  // naming the field, and the account is left as it is.
  const rev = newRevision(f.src, { stamp: 'again' })
  writeSpec({ uid: uid + 1, gid }, rev)
  const again = xoaBuild()
  assert.equal(again.status, 1, again.stdout + again.stderr)
  assert.match(again.stderr, new RegExp(`"${name}" exists with uid ${uid}, but service\\.uid = ${uid + 1}`))
  assert.match(getent('passwd', name).stdout, new RegExp(`:x:${uid}:${gid}:`))
})

test('without useradd/groupadd the error names the package to install', async (t) => {
  const spec = validateSpec({ service: { user: 'xoatest-absent', group: 'xoatest-absent' } })
  // A Debian whose groupadd and useradd are not where the platform says.
  const gone = tempDir(t)
  setCurrentPlatform({
    ...DEBIAN,
    tools: { ...DEBIAN.tools, groupadd: `${gone}/groupadd`, useradd: `${gone}/useradd` },
  })
  t.after(() => setCurrentPlatform(undefined))
  await assert.rejects(
    ensureServiceAccount(spec),
    /groupadd is not installed, so the service account cannot be created/,
  )
  await ensureServiceAccount(spec).catch((e: XoaError) =>
    assert.match(e.hint ?? '', /apt-get install passwd/),
  )
  assert.notEqual(getent('group', 'xoatest-absent').status, 0)
})
