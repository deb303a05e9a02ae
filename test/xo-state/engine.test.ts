// The XO-state engine against an in-memory XO (fake-xo.ts): diff, apply, idempotence, ownership, secrets.
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { validateSpec } from '../../src/spec/load.ts'
import { statePaths } from '../../src/spec/paths.ts'
import type { Spec } from '../../src/spec/schema.ts'
import { diffXoState } from '../../src/xo-state/diff.ts'
import { xoChangeLine, xoChangesJson, xoDrift } from '../../src/xo-state/format.ts'
import { applyXoStateRun, planXoState } from '../../src/xo-state/reconcile.ts'
import { readRecord } from '../../src/xo-state/record.ts'
import { tempDir } from '../helpers.ts'
import { FakeXo, stockPlugins } from './fake-xo.ts'

const SECRETS: Record<string, string> = {
  '/s/ldap': 'ldap-bind-S3cret',
  '/s/pool': 'pool-root-S3cret',
  '/s/smb': 'smb-S3cret/with@odd:chars',
  '/s/alice': 'alice-S3cret',
  '/s/bob': 'bob-S3cret',
}
const secrets = { ...SECRETS }
const readSecret = (p: string, field: string) => {
  const v = secrets[p]
  if (v === undefined) throw new Error(`${field}: no secret ${p}`)
  return v
}

function specOf(
  t: { after(fn: () => void): void },
  xoState: Record<string, unknown>,
  stateDir = tempDir(t),
): Spec {
  return validateSpec({ xo: { stateDir: join(stateDir, 'state') }, xoState })
}

const FULL = {
  plugins: {
    'auth-ldap': {
      enable: true,
      configuration: {
        uri: 'ldap://127.0.0.1:389',
        base: 'dc=example,dc=org',
        bind: { dn: 'cn=xo,dc=example,dc=org', password: { file: '/s/ldap' } },
      },
    },
  },
  servers: { 'pool-a': { host: '192.0.2.10', passwordFile: '/s/pool', allowUnauthorized: true } },
  remotes: {
    local: { type: 'file', path: '/var/backups/xo' },
    nas: { type: 'nfs', host: 'nas.example.org', path: '/export/xo', enabled: false },
    smb: {
      type: 'smb',
      host: 'files.example.org',
      share: 'backups/xo',
      username: 'xo',
      passwordFile: '/s/smb',
      enabled: false,
    },
  },
  users: { 'alice@example.org': { permission: 'admin', passwordFile: '/s/alice' } },
  groups: { ops: { members: ['alice@example.org'] } },
  acls: [{ subject: 'ops', object: 'pool-uuid-1', action: 'viewer' }],
}

const noSecretIn = (text: string) => {
  for (const s of Object.values(SECRETS)) {
    assert.ok(!text.includes(s), `a secret leaked into: ${text}`)
    assert.ok(!text.includes(encodeURIComponent(s)), `a secret leaked (URI-encoded) into: ${text}`)
  }
}

test('first apply creates everything; the second run changes nothing; XO got the secrets, the plan never', async (t) => {
  const spec = specOf(t, FULL)
  const xo = new FakeXo(stockPlugins())
  const plan = await planXoState(spec, xo, readSecret)
  const lines = plan.changes.map(xoChangeLine)
  noSecretIn(lines.join('\n') + JSON.stringify(xoChangesJson(plan.changes)))
  assert.deepEqual(
    plan.changes.map((c) => `${c.action} ${c.id}`),
    [
      'change plugin:auth-ldap',
      'create server:pool-a',
      'create remote:local',
      'create remote:nas',
      'create remote:smb',
      'create user:alice@example.org',
      'create group:ops',
      'create acl:ops viewer on pool-uuid-1',
    ],
  )
  assert.match(lines[4] as string, /smb:\/\/xo:\*\*\*@WORKGROUP/)

  await applyXoStateRun(spec, xo, { readSecret })
  // What XO holds now, as XO holds it.
  const ldap = xo.plugins_.find((p) => p.id === 'auth-ldap')
  assert.equal((ldap?.configuration?.bind as { password: string } | undefined)?.password, SECRETS['/s/ldap'])
  assert.ok(ldap?.loaded && ldap.autoload)
  assert.equal(xo.servers_[0]?.password, SECRETS['/s/pool'])
  assert.equal(xo.servers_[0]?.enabled, true)
  assert.deepEqual(
    xo.remotes_.map((r) => [r.name, r.url, r.enabled]),
    [
      ['local', 'file:///var/backups/xo', true],
      ['nas', 'nfs://nas.example.org:/export/xo', false],
      ['smb', `smb://xo:${SECRETS['/s/smb']}@WORKGROUP\\\\files.example.org\0backups\\xo`, false],
    ],
  )
  const alice = xo.users_[0]
  assert.equal(alice?.password, SECRETS['/s/alice'])
  assert.deepEqual(xo.groups_[0]?.users, [alice?.id])
  assert.deepEqual(xo.acls_, [{ subject: xo.groups_[0]?.id, object: 'pool-uuid-1', action: 'viewer' }])

  // The record: root's 0600, every object xoa made, no secret in it.
  const path = statePaths(spec).xoStateRecord
  assert.equal(statSync(path).mode & 0o777, 0o600)
  assert.equal(statSync(join(path, '..')).mode & 0o777, 0o700)
  const text = readFileSync(path, 'utf8')
  noSecretIn(text)
  const record = await readRecord(path)
  assert.equal(Object.values(record.objects).filter((o) => o.created).length, 7)

  const before = xo.changes().length
  const again = await applyXoStateRun(spec, xo, { readSecret })
  assert.equal(
    xoDrift(again),
    0,
    again
      .filter((c) => c.action !== 'ok')
      .map(xoChangeLine)
      .join('\n'),
  )
  assert.equal(xo.changes().length, before, 'the second run called nothing that changes XO')
})

test('XO config export is saved once, 0600, before the first change; none when nothing changes', async (t) => {
  const spec = specOf(t, { users: FULL.users })
  const xo = new FakeXo()
  await applyXoStateRun(spec, xo, { readSecret })
  const exportAt = xo.calls.findIndex((c) => c.method === 'exportConfig')
  const firstChange = xo.calls.findIndex((c) => c.method === 'createUser')
  assert.ok(exportAt >= 0 && exportAt < firstChange, 'the export came before the first change')
  const backups = statePaths(spec).backups
  const files = readdirSync(backups).filter((f) => f.startsWith('xo-config-'))
  assert.equal(files.length, 1)
  assert.equal(statSync(join(backups, files[0] as string)).mode & 0o777, 0o600)
  await applyXoStateRun(spec, xo, { readSecret })
  assert.equal(xo.calls.filter((c) => c.method === 'exportConfig').length, 1)
})

test('objects made by hand are never touched; only what xoa made leaves with the spec', async (t) => {
  const dir = tempDir(t)
  const xo = new FakeXo(stockPlugins())
  const handUser = await xo.createUser({ email: 'hand@example.org', password: 'x', permission: 'read' })
  await xo.createRemote({ name: 'hand-remote', url: 'file:///srv/hand' })
  await xo.addAcl({ subject: handUser, object: 'vm-1', action: 'operator' })
  await applyXoStateRun(specOf(t, FULL, dir), xo, { readSecret })

  // Drop the group, its ACL and the SMB remote from the spec; change the user's permission.
  const { groups: _g, acls: _a, ...rest } = FULL
  const smaller = {
    ...rest,
    remotes: { local: FULL.remotes.local, nas: FULL.remotes.nas },
    users: { 'alice@example.org': { permission: 'read', passwordFile: '/s/alice' } },
  }
  const spec = specOf(t, smaller, dir)
  const plan = await planXoState(spec, xo, readSecret)
  const pending = plan.changes.filter((c) => c.action !== 'ok').map((c) => `${c.action} ${c.id}`)
  assert.deepEqual(pending, [
    'change user:alice@example.org',
    'delete acl:ops viewer on pool-uuid-1',
    'delete group:ops',
    'delete remote:smb',
  ])
  await applyXoStateRun(spec, xo, { readSecret })
  assert.deepEqual(
    xo.remotes_.map((r) => r.name),
    ['hand-remote', 'local', 'nas'],
  )
  assert.deepEqual(xo.groups_, [])
  assert.deepEqual(xo.acls_, [{ subject: handUser, object: 'vm-1', action: 'operator' }])
  assert.equal(xo.users_.find((u) => u.email === 'alice@example.org')?.permission, 'read')
  assert.equal(xo.users_.find((u) => u.email === 'hand@example.org')?.permission, 'read')

  // An empty spec: everything xoa made goes, the hand-made stays, plugins keep their configuration.
  await applyXoStateRun(specOf(t, {}, dir), xo, { readSecret })
  assert.deepEqual(
    xo.users_.map((u) => u.email),
    ['hand@example.org'],
  )
  assert.deepEqual(
    xo.remotes_.map((r) => r.name),
    ['hand-remote'],
  )
  assert.deepEqual(xo.servers_, [])
  assert.ok(xo.plugins_.find((p) => p.id === 'auth-ldap')?.configuration)
})

test('a declared object that exists already is adopted: updated, but left in XO when it leaves the spec', async (t) => {
  const dir = tempDir(t)
  const xo = new FakeXo()
  await xo.createUser({ email: 'alice@example.org', password: 'old', permission: 'none' })
  await applyXoStateRun(specOf(t, { users: FULL.users }, dir), xo, { readSecret })
  assert.equal(xo.users_[0]?.permission, 'admin')
  assert.equal(xo.users_[0]?.password, SECRETS['/s/alice'])
  const plan = await planXoState(specOf(t, {}, dir), xo, readSecret)
  assert.deepEqual(
    plan.changes.map((c) => `${c.action} ${c.id}`),
    ['skip user:alice@example.org'],
  )
  await applyXoStateRun(specOf(t, {}, dir), xo, { readSecret })
  assert.equal(xo.users_.length, 1)
  assert.equal(
    Object.keys((await readRecord(statePaths(specOf(t, {}, dir)).xoStateRecord)).objects).length,
    0,
  )
})

test('secrets XO does not return are compared by digest: a new secret file content is one change', async (t) => {
  const dir = tempDir(t)
  const xo = new FakeXo(stockPlugins())
  const spec = specOf(t, FULL, dir)
  await applyXoStateRun(spec, xo, { readSecret })
  t.after(() => Object.assign(secrets, SECRETS))
  secrets['/s/pool'] = 'rotated-pool-S3cret'
  secrets['/s/smb'] = 'rotated-smb-S3cret'
  secrets['/s/ldap'] = 'rotated-ldap-S3cret'
  const plan = await planXoState(spec, xo, readSecret)
  const pending = plan.changes.filter((c) => c.action !== 'ok')
  assert.deepEqual(pending.map(xoChangeLine), [
    '~ xo-plugin:auth-ldap (configuration (a secret changed))',
    '~ xo-server:pool-a (password (secret))',
    '~ xo-remote:smb (url → smb://xo:***@WORKGROUP\\\\files.example.org\\backups\\xo (secret not shown))',
  ])
  assert.ok(!JSON.stringify(pending).includes('rotated'))
  await applyXoStateRun(spec, xo, { readSecret })
  assert.equal(xo.servers_[0]?.password, 'rotated-pool-S3cret')
  assert.match(xo.remotes_.find((r) => r.name === 'smb')?.url ?? '', /rotated-smb/)
  assert.equal(xoDrift((await planXoState(spec, xo, readSecret)).changes), 0)
})

test('a change made in XO to an obfuscated value is drift: the report no longer matches the record', async (t) => {
  const xo = new FakeXo(stockPlugins())
  const spec = specOf(t, { plugins: FULL.plugins, remotes: { smb: FULL.remotes.smb } })
  await applyXoStateRun(spec, xo, { readSecret })
  const ldap = xo.plugins_.find((p) => p.id === 'auth-ldap')
  ;(ldap?.configuration?.bind as { password: string }).password = 'typed-in-the-ui'
  ldap!.configuration!.uri = 'ldap://elsewhere'
  const smb = xo.remotes_[0]
  smb!.url = smb!.url.replace('files.example.org', 'other.example.org')
  const plan = await planXoState(spec, xo, readSecret)
  assert.deepEqual(plan.changes.map(xoChangeLine), [
    '~ xo-plugin:auth-ldap (configuration (changed in XO since xoa set it))',
    '~ xo-remote:smb (url → smb://xo:***@WORKGROUP\\\\files.example.org\\backups\\xo (secret not shown))',
  ])
  await applyXoStateRun(spec, xo, { readSecret })
  assert.equal(ldap?.configuration?.uri, 'ldap://127.0.0.1:389')
  assert.equal(xoDrift((await planXoState(spec, xo, readSecret)).changes), 0)
})

test('a plugin configuration is checked against the schema XO reports, before anything is sent', async (t) => {
  const xo = new FakeXo(stockPlugins())
  const spec = specOf(t, {
    plugins: { 'transport-email': { configuration: { transport: { port: 70000 }, from: { address: 7 } } } },
  })
  await assert.rejects(applyXoStateRun(spec, xo, { readSecret }), (e: Error) => {
    assert.match(e.message, /xoState\.plugins\.transport-email\.configuration\.transport\.host: /)
    assert.match(e.message, /xoState\.plugins\.transport-email\.configuration\.transport\.port: .*65535/)
    assert.match(e.message, /xoState\.plugins\.transport-email\.configuration\.from\.address: .*string/)
    return true
  })
  assert.deepEqual(xo.changes(), [], 'nothing was sent, not even the export')
  const unknown = specOf(t, { plugins: { 'auth-nope': { enable: true } } })
  await assert.rejects(
    applyXoStateRun(unknown, xo, { readSecret }),
    /xoState\.plugins\.auth-nope: XO has no plugin named auth-nope \(it has: auth-ldap/,
  )
})

test('a failed step stops the run with the object and XO message; what was made before is recorded', async (t) => {
  const dir = tempDir(t)
  const xo = new FakeXo()
  xo.fail.createRemote = Object.assign(new Error('invalid parameters'), {
    data: { errors: [{ message: `must be a valid url smb://xo:${SECRETS['/s/smb']}@x` }] },
  })
  const spec = specOf(
    t,
    { servers: FULL.servers, remotes: { smb: FULL.remotes.smb }, users: FULL.users },
    dir,
  )
  await assert.rejects(applyXoStateRun(spec, xo, { readSecret }), (e: Error) => {
    assert.match(e.message, /^remote:smb: XO refused to create it: invalid parameters/)
    noSecretIn(e.message)
    return true
  })
  assert.equal(xo.users_.length, 0, 'the user after the failed remote was not made')
  const record = await readRecord(statePaths(spec).xoStateRecord)
  assert.deepEqual(Object.keys(record.objects), ['server:pool-a'])
  delete xo.fail.createRemote
  await applyXoStateRun(spec, xo, { readSecret })
  assert.equal(xo.servers_.length, 1, 'the server was not made twice')
  assert.equal(xo.users_.length, 1)
})

test('groups: membership is exactly the list; an unknown member or subject names the field', async (t) => {
  const dir = tempDir(t)
  const xo = new FakeXo()
  const hand = await xo.createUser({ email: 'hand@example.org', password: 'x', permission: 'none' })
  const spec = specOf(
    t,
    {
      users: FULL.users,
      groups: { ops: { members: ['alice@example.org', 'hand@example.org'] } },
      acls: [
        { subject: 'alice@example.org', object: 'sr-1', action: 'operator' },
        { subject: hand, object: 'sr-1', action: 'viewer' },
      ],
    },
    dir,
  )
  await applyXoStateRun(spec, xo, { readSecret })
  assert.equal(xo.groups_[0]?.users.length, 2)
  assert.deepEqual(
    xo.acls_.map((a) => a.action),
    ['operator', 'viewer'],
  )
  await xo.addUserToGroup(
    await xo.createUser({ email: 'extra@example.org', password: 'x', permission: 'none' }),
    xo.groups_[0]!.id,
  )
  const plan = await planXoState(spec, xo, readSecret)
  assert.deepEqual(plan.changes.filter((c) => c.action !== 'ok').map(xoChangeLine), [
    '~ xo-group:ops (remove extra@example.org)',
  ])
  const bad = specOf(t, { groups: { ops: { members: ['ghost@example.org'] } } }, dir)
  await assert.rejects(
    planXoState(bad, xo, readSecret),
    /xoState\.groups\.ops\.members\[0\]: no user ghost@example.org/,
  )
  const badAcl = specOf(t, { acls: [{ subject: 'nobody', object: 'x', action: 'viewer' }] }, dir)
  await assert.rejects(
    planXoState(badAcl, xo, readSecret),
    /xoState\.acls\[0\]\.subject: nobody names no user or group/,
  )
})

test('SSO users are never created; once XO made them at sign-in, their permission is reconciled', (t) => {
  const spec = specOf(t, {
    users: { 'sso@example.org': { sso: true, permission: 'write' } },
    groups: { ops: { members: ['sso@example.org'] } },
    acls: [{ subject: 'sso@example.org', object: 'vm-1', action: 'viewer' }],
  })
  const observed = { plugins: [], servers: [], remotes: [], users: [], groups: [], acls: [] }
  const record = { version: 1 as const, salt: '00'.repeat(32), objects: {} }
  const before = diffXoState({ state: spec.xoState, observed, record, readSecret })
  assert.deepEqual(before.changes.map(xoChangeLine), [
    '! xo-user:sso@example.org (SSO: XO creates it at the first sign-in; reconciled after that)',
    '+ xo-group:ops (waiting for the first sign-in of sso@example.org)',
    '! xo-acl:sso@example.org viewer on vm-1 (waiting for the first sign-in of sso@example.org)',
  ])
  const signedIn = {
    ...observed,
    users: [{ id: 'u1', email: 'sso@example.org', permission: 'none' as const, groups: [] }],
  }
  const after = diffXoState({ state: spec.xoState, observed: signedIn, record, readSecret })
  assert.deepEqual(after.changes.map(xoChangeLine), [
    '~ xo-user:sso@example.org (permission none → write)',
    '+ xo-group:ops (members sso@example.org)',
    '+ xo-acl:sso@example.org viewer on vm-1',
  ])
})

test('a plugin: enable false unloads it and turns autoload off; unset leaves it; a plain config is compared as reported', (t) => {
  const observed = { plugins: stockPlugins(), servers: [], remotes: [], users: [], groups: [], acls: [] }
  const record = { version: 1 as const, salt: '00'.repeat(32), objects: {} }
  const state = specOf(t, {
    plugins: {
      'backup-reports': { enable: false },
      'transport-email': { configuration: { transport: { host: '127.0.0.1', port: 2525 } } },
    },
  }).xoState
  const d = diffXoState({ state, observed, record, readSecret })
  assert.deepEqual(d.changes.map(xoChangeLine), [
    '~ xo-plugin:backup-reports (unload, autoload off)',
    '~ xo-plugin:transport-email (configuration: transport)',
  ])
  const te = observed.plugins.find((p) => p.id === 'transport-email')!
  // XO fills in defaults it stores: what the spec says is all that is compared.
  te.configuration = { transport: { host: '127.0.0.1', port: 2525, secure: false } }
  assert.deepEqual(diffXoState({ state, observed, record, readSecret }).changes.map(xoChangeLine), [
    '~ xo-plugin:backup-reports (unload, autoload off)',
    '= xo-plugin:transport-email',
  ])
})

test('a connected pool is disconnected for a new password (XO refuses it otherwise) and reconnected', async (t) => {
  const dir = tempDir(t)
  const xo = new FakeXo()
  xo.reachable.add('192.0.2.10')
  const spec = specOf(t, { servers: FULL.servers }, dir)
  await applyXoStateRun(spec, xo, { readSecret })
  await xo.enableServer(xo.servers_[0]!.id) // XO connected it in the background
  assert.equal(xo.servers_[0]?.status, 'connected')
  t.after(() => Object.assign(secrets, SECRETS))
  secrets['/s/pool'] = 'rotated-pool-S3cret'
  xo.calls = []
  await applyXoStateRun(spec, xo, { readSecret })
  assert.deepEqual(
    xo.changes().map((c) => c.method),
    ['exportConfig', 'disableServer', 'setServer', 'enableServer'],
  )
  assert.equal(xo.servers_[0]?.password, 'rotated-pool-S3cret')
  assert.equal(xo.servers_[0]?.status, 'connected')
})

test('a pool declared disabled is added disabled: never connected, no disable call after', async (t) => {
  const xo = new FakeXo()
  const spec = specOf(t, {
    servers: { off: { host: '192.0.2.20', passwordFile: '/s/pool', enabled: false } },
  })
  await applyXoStateRun(spec, xo, { readSecret })
  assert.deepEqual(
    xo.changes().map((c) => c.method),
    ['exportConfig', 'addServer'],
  )
  assert.equal((xo.changes()[1]?.args[0] as { enabled?: boolean } | undefined)?.enabled, false)
  assert.equal(xo.servers_[0]?.enabled, false)
})
