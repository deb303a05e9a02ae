// Opt-in: the XO-state client (src/xo-state/client.ts) against real upstream XO under `xoa up --no-build` on
// XOA_REAL_STATE (a state dir holding a real release; docs/testing.md, "Real Xen Orchestra"). What
// docs/xo-state.md says XO answers is checked here on the real thing: a plugin configured and loaded without its
// server (transport-email pointing at a closed local port), an unreachable pool stored and disconnected, a pool
// declared disabled, file/NFS/SMB remotes (NFS and SMB declared disabled: nothing mounts), a user, a group with
// the user, an ACL, the config export.
import assert from 'node:assert/strict'
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { validateSpec } from '../../src/spec/load.ts'
import { openXoApi } from '../../src/xo-state/client.ts'
import { XoRpcError } from '../../src/xo-state/connection.ts'
import { freePort, tempDir } from '../helpers.ts'
import { startUp, stopUp, upSpec } from './xoa-up.ts'

const state = process.env.XOA_REAL_STATE
const OBFUSCATED = 'obfuscated-q3oi6d9X8uenGvdLnHk2'

test('real XO: every XoApi call, what XO stores, obfuscates and never answers', {
  skip: !state && 'skipped: XOA_REAL_STATE is not set',
  timeout: 20 * 60_000,
}, async (t) => {
  const root = tempDir(t, 'xoa-real-state-')
  chmodSync(root, 0o755)
  const ports = { http: await freePort(), https: await freePort() }
  const specObject = upSpec(root, { ports, state, webAdmin: { passwordFile: join(root, 'admin-password') } })
  const specFile = join(root, 'xoa.json')
  writeFileSync(specFile, JSON.stringify(specObject))
  const admin = { email: 'ops@example.test', password: 'real-xo-state-password' }
  writeFileSync(join(root, 'admin-password'), `${admin.password}\n`, { mode: 0o600 })
  const started = Date.now()
  const up = startUp(specFile, ['--no-build', '--health-timeout', '300'])
  t.after(() => up.kill())
  await up.ready
  t.diagnostic(`xoa up ready in ${Math.round((Date.now() - started) / 1000)} s`)

  const calls = Date.now()
  const api = await openXoApi(validateSpec(specObject), admin)
  t.after(() => api.close())

  // Plugin: XO validates against the schema it reports, stores, loads with no SMTP server reachable.
  const plugins = await api.plugins()
  t.diagnostic(`plugins: ${plugins.map((p) => `${p.id}${p.loaded ? '*' : ''}`).join(' ')}`)
  const mail = plugins.find((p) => p.id === 'transport-email')
  assert.ok(mail, 'transport-email is installed')
  assert.deepEqual((mail.configurationSchema as { required?: string[] }).required, ['from', 'transport'])
  await assert.rejects(
    api.configurePlugin(mail.id, { from: { address: 'xo@example.test' } }),
    (e: unknown) => {
      assert.ok(e instanceof XoRpcError && e.code === 10, String(e))
      return true
    },
  )
  const smtpPort = await freePort()
  const conf = {
    from: { address: 'xo@example.test' },
    transport: { host: '127.0.0.1', port: smtpPort, user: 'mailer', password: 'smtp-S3cret' },
  }
  await api.configurePlugin(mail.id, conf)
  if (!mail.loaded) await api.loadPlugin(mail.id)
  const mailNow = (await api.plugins()).find((p) => p.id === mail.id)!
  assert.equal(mailNow.loaded, true)
  assert.equal((mailNow.configuration as typeof conf).transport.password, OBFUSCATED)
  assert.equal((mailNow.configuration as typeof conf).from.address, 'xo@example.test')
  await api.configurePlugin(mail.id, mailNow.configuration!) // the placeholder sent back: accepted

  // Servers: an unreachable pool is stored, enabled, disconnected, its error kept; a disabled one is never tried.
  const closed = await freePort()
  const pool = await api.addServer({
    label: 'unreachable pool',
    host: `127.0.0.1:${closed}`,
    username: 'root',
    password: 'xapi-S3cret',
    allowUnauthorized: true,
    readOnly: true,
  })
  const off = await api.addServer({
    label: 'disabled pool',
    host: `127.0.0.1:${closed + 1}`,
    username: 'root',
    password: 'xapi-S3cret',
    allowUnauthorized: false,
    readOnly: false,
    enabled: false,
  })
  let s = (await api.servers()).find((x) => x.id === pool)!
  for (let i = 0; i < 120 && s.error === undefined; i++) {
    await sleep(500)
    s = (await api.servers()).find((x) => x.id === pool)!
  }
  t.diagnostic(
    `unreachable pool: ${JSON.stringify({ ...s, error: undefined })} error ${JSON.stringify(s.error)}`,
  )
  assert.deepEqual(
    [s.label, s.enabled, s.readOnly, s.allowUnauthorized, s.status === 'connected'],
    ['unreachable pool', true, true, true, false],
  )
  assert.ok(s.error !== undefined, 'the connection error is stored')
  const o = (await api.servers()).find((x) => x.id === off)!
  assert.deepEqual([o.enabled, o.status], [false, 'disconnected'])
  await assert.rejects(api.enableServer(off), (e: unknown) => {
    t.diagnostic(`server.enable on an unreachable pool: ${String(e)}`)
    return e instanceof XoRpcError
  })
  await api.disableServer(off)
  await api.setServer(pool, { label: 'renamed pool' })
  assert.equal((await api.servers()).find((x) => x.id === pool)!.label, 'renamed pool')

  // Remotes: created enabled; NFS and SMB declared disabled right after (nothing mounts them).
  const dir = join(root, 'remote')
  mkdirSync(dir)
  chownSync(dir, 65534, 65534)
  const file = await api.createRemote({ name: 'local', url: `file://${dir}/` })
  const nfs = await api.createRemote({ name: 'nas', url: 'nfs://127.0.0.1:/export/xo' })
  await api.setRemote(nfs, { enabled: false })
  const smb = await api.createRemote({ name: 'smb', url: 'smb://backup:smb-S3cret@WG\\\\127.0.0.1\0share' })
  await api.setRemote(smb, { enabled: false })
  const remotes = Object.fromEntries((await api.remotes()).map((r) => [r.name, r]))
  t.diagnostic(`remotes: ${JSON.stringify(Object.values(remotes))}`)
  assert.deepEqual([remotes.local!.url, remotes.local!.enabled], [`file://${dir}`, true])
  assert.deepEqual([remotes.nas!.url, remotes.nas!.enabled], ['nfs://127.0.0.1:/export/xo', false])
  assert.equal(remotes.smb!.url, `smb://backup:${OBFUSCATED}@WG\\\\127.0.0.1\0share`)

  // Users, groups, ACLs.
  const alice = await api.createUser({
    email: 'alice@example.test',
    password: 'alice-pw',
    permission: 'none',
  })
  const ops = await api.createGroup('ops')
  await api.addUserToGroup(alice, ops)
  await api.addAcl({ subject: ops, object: file, action: 'viewer' })
  await api.addAcl({ subject: ops, object: file, action: 'viewer' })
  assert.deepEqual((await api.groups()).find((g) => g.id === ops)!.users, [alice])
  assert.deepEqual((await api.users()).find((u) => u.id === alice)!.groups, [ops])
  assert.deepEqual(
    (await api.acls()).filter((a) => a.subject === ops),
    [{ subject: ops, object: file, action: 'viewer' }],
  )

  // The export: every secret XO stores, in clear.
  const exported = JSON.parse((await api.exportConfig()).toString('utf8'))
  t.diagnostic(`export entries: ${Object.keys(exported).sort().join(' ')}`)
  const exportedServer = exported.xenServers.find((x: { id: string }) => x.id === pool)
  assert.equal(exportedServer.password, 'xapi-S3cret')

  // Undo: everything made here goes.
  await api.removeAcl({ subject: ops, object: file, action: 'viewer' })
  await api.removeUserFromGroup(alice, ops)
  await api.deleteGroup(ops)
  await api.deleteUser(alice)
  for (const r of [file, nfs, smb]) await api.removeRemote(r)
  for (const id of [pool, off]) await api.removeServer(id)
  await api.unloadPlugin(mail.id)
  assert.deepEqual(
    (await api.servers()).filter((x) => [pool, off].includes(x.id)),
    [],
  )
  t.diagnostic(`calls done in ${Math.round((Date.now() - calls) / 1000)} s`)
  await api.close()
  assert.doesNotMatch(up.output(), /S3cret|real-xo-state-password/, 'no secret in xoa up output')
  assert.equal(await stopUp(up), 0)
})
