// Opt-in: the XO-state reconcile (src/xo-state/reconcile.ts) through the real client on real upstream XO under
// `xoa up --no-build` on XOA_REAL_STATE: a plugin (transport-email, its SMTP server absent), an unreachable pool
// (stored, disconnected), a file remote, an NFS remote declared disabled (this kernel mounts no NFS), a user, a
// group with the user, an ACL. Reconciled twice (the second changes nothing); then one object removed from the
// spec (it goes), one changed (it changes), and one made by hand in XO stays.
import assert from 'node:assert/strict'
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { validateSpec } from '../../src/spec/load.ts'
import { statePaths } from '../../src/spec/paths.ts'
import type { XoChange } from '../../src/xo-state/change.ts'
import { openXoApi } from '../../src/xo-state/client.ts'
import { applyXoStateRun, planXoState } from '../../src/xo-state/reconcile.ts'
import { freePort, tempDir } from '../helpers.ts'
import { startUp, stopUp, upSpec } from './xoa-up.ts'

const state = process.env.XOA_REAL_STATE
const summary = (cs: XoChange[]) => cs.filter((c) => c.action !== 'ok').map((c) => `${c.action} ${c.id}`)

test('real XO: reconcile twice (second: no change), remove one, change one, one made by hand stays', {
  skip: !state && 'skipped: XOA_REAL_STATE is not set',
  timeout: 20 * 60_000,
}, async (t) => {
  const root = tempDir(t, 'xoa-real-reconcile-')
  chmodSync(root, 0o755)
  const secret = (name: string, value: string) => {
    const p = join(root, 'secrets', name)
    mkdirSync(join(root, 'secrets'), { recursive: true, mode: 0o700 })
    writeFileSync(p, `${value}\n`, { mode: 0o600 })
    return p
  }
  const admin = { email: 'ops@example.test', password: 'real-xo-reconcile-password' }
  const ports = { http: await freePort(), https: await freePort() }
  const base = upSpec(root, { ports, state, webAdmin: { passwordFile: secret('admin', admin.password) } })
  const specFile = join(root, 'xoa.json')
  writeFileSync(specFile, JSON.stringify(base))
  // The ownership record lives in the shared state dir: put it back as it was.
  const recordPath = statePaths(validateSpec(base)).xoStateRecord
  const before = existsSync(recordPath) ? readFileSync(recordPath) : undefined
  const exports: string[] = []
  t.after(() => {
    if (before) writeFileSync(recordPath, before, { mode: 0o600 })
    else rmSync(recordPath, { force: true })
    for (const e of exports) rmSync(e, { force: true })
  })

  const up = startUp(specFile, ['--no-build', '--health-timeout', '300'])
  t.after(() => up.kill())
  await up.ready

  const remoteDir = join(root, 'remote')
  mkdirSync(remoteDir)
  chownSync(remoteDir, 65534, 65534)
  const closed = await freePort()
  const xoState = {
    plugins: {
      'transport-email': {
        enable: true,
        configuration: {
          from: { address: 'xo@example.test' },
          transport: {
            host: '127.0.0.1',
            port: await freePort(),
            user: 'mailer',
            password: { file: secret('smtp', 'smtp-S3cret') },
          },
        },
      },
    },
    servers: {
      lab: {
        host: `127.0.0.1:${closed}`,
        passwordFile: secret('xapi', 'xapi-S3cret'),
        allowUnauthorized: true,
      },
      off: { host: `127.0.0.1:${closed + 1}`, passwordFile: secret('xapi', 'xapi-S3cret'), enabled: false },
    },
    remotes: {
      local: { type: 'file', path: remoteDir },
      nas: { type: 'nfs', host: '127.0.0.1', path: '/export/xo', enabled: false },
    },
    users: { 'alice@example.test': { permission: 'read', passwordFile: secret('alice', 'alice-pw') } },
    groups: { ops: { members: ['alice@example.test'] } },
    acls: [{ subject: 'ops', object: 'pool-object-id', action: 'viewer' }],
  }
  const specWith = (x: object) => validateSpec({ ...base, xoState: x })
  const api = await openXoApi(validateSpec(base), admin)
  t.after(() => api.close())
  const run = async (x: object) => {
    const t0 = Date.now()
    const changes = await applyXoStateRun(specWith(x), api, { onExport: (p) => exports.push(p) })
    return { changes: summary(changes), ms: Date.now() - t0 }
  }

  const first = await run(xoState)
  t.diagnostic(`first run (${first.ms} ms): ${first.changes.join(', ')}`)
  for (const id of ['server:lab', 'remote:local', 'remote:nas', 'user:alice@example.test', 'group:ops'])
    assert.ok(first.changes.includes(`create ${id}`), `${id} created: ${first.changes.join(', ')}`)
  assert.ok(
    first.changes.some((c) => c.includes('plugin:transport-email')),
    first.changes.join(', '),
  )
  assert.ok(
    first.changes.some((c) => c.startsWith('create acl:')),
    first.changes.join(', '),
  )
  assert.equal(exports.length, 1, "XO's config export was saved before the first change")
  const second = await run(xoState)
  t.diagnostic(`second run (${second.ms} ms): ${second.changes.join(', ') || 'no change'}`)
  assert.deepEqual(second.changes, [])

  const servers = await api.servers()
  const lab = servers.find((s) => s.label === 'lab')!
  assert.deepEqual([lab.enabled, lab.status === 'connected', lab.allowUnauthorized], [true, false, true])
  const off = servers.find((s) => s.label === 'off')!
  assert.deepEqual([off.enabled, off.status], [false, 'disconnected'])
  const remotes = Object.fromEntries((await api.remotes()).map((r) => [r.name, r]))
  assert.deepEqual([remotes.local?.enabled, remotes.nas?.enabled], [true, false])
  const mail = (await api.plugins()).find((p) => p.id === 'transport-email')!
  assert.deepEqual([mail.loaded, mail.autoload], [true, true])
  const alice = (await api.users()).find((u) => u.email === 'alice@example.test')!
  const ops = (await api.groups()).find((g) => g.name === 'ops')!
  assert.deepEqual(ops.users, [alice.id])
  assert.ok((await api.acls()).some((a) => a.subject === ops.id && a.object === 'pool-object-id'))

  // Made by hand in XO (not in the spec, not owned): stays.
  const byHand = await api.createRemote({ name: 'by-hand', url: `file://${remoteDir}-hand` })
  const { nas: _, ...remotesLeft } = xoState.remotes
  const changed = {
    ...xoState,
    remotes: remotesLeft,
    users: { 'alice@example.test': { ...xoState.users['alice@example.test'], permission: 'write' } },
  }
  const third = await run(changed)
  t.diagnostic(`third run (${third.ms} ms): ${third.changes.join(', ')}`)
  assert.deepEqual(third.changes.sort(), ['change user:alice@example.test', 'delete remote:nas'])
  const names = (await api.remotes()).map((r) => r.name).sort()
  assert.deepEqual(names, ['by-hand', 'local'])
  assert.equal((await api.users()).find((u) => u.email === 'alice@example.test')!.permission, 'write')
  const plan = await planXoState(specWith(changed), api)
  assert.deepEqual(summary(plan.changes), [], 'after the third run, the plan is empty')
  await api.removeRemote(byHand)
  await api.close()
  assert.doesNotMatch(up.output(), /S3cret|alice-pw|real-xo-reconcile-password/)
  assert.equal(await stopUp(up), 0)
})
