// The XO-state client (src/xo-state/client.ts) against the stand-in XO's JSON-RPC API (test/fixtures/mini-xo,
// behaviour read from upstream: docs/testing.md): every XoApi method, what XO stores in Redis meanwhile, what it
// obfuscates or never answers; and the pin: a server with another certificate gets no byte of the sign-in.
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { createServer as createTlsServer } from 'node:tls'
import { generateSelfSigned } from '../../src/tls/generate.ts'
import { openXoApi } from '../../src/xo-state/client.ts'
import { openSession, XoRpcError } from '../../src/xo-state/connection.ts'
import { freePort, tempDir } from '../helpers.ts'
import { admin, names, specFor, startStandIn } from './stand-in.ts'

const OBFUSCATED = 'obfuscated-q3oi6d9X8uenGvdLnHk2'

/** Rejects with an XoRpcError of this JSON-RPC code whose message matches. */
async function rejectsXo(p: Promise<unknown>, code: number, message: RegExp) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof XoRpcError, String(e))
    assert.equal(e.code, code, e.message)
    assert.match(e.message, message)
    return true
  })
}

test('plugins: configured against the schema XO reports, the secret obfuscated in answers and kept in Redis', async (t) => {
  const xo = await startStandIn(t)
  const api = await openXoApi(xo.spec, admin)
  t.after(() => api.close())
  const [p] = (await api.plugins()).filter((x) => x.id === 'transport-email')
  assert.ok(p, 'transport-email is listed')
  // First start: metadata made with autoload, the empty configuration refused by the schema: not loaded.
  assert.deepEqual([p.loaded, p.autoload, p.configuration], [false, true, undefined])
  assert.deepEqual((p.configurationSchema as { required: string[] }).required, ['from', 'transport'])
  await rejectsXo(api.loadPlugin(p.id), 10, /plugin not configured/)
  await rejectsXo(api.configurePlugin(p.id, { from: { address: 'xo@example.test' } }), 10, /'transport'/)

  const conf = {
    from: { address: 'xo@example.test' },
    transport: { host: '127.0.0.1', port: 2525, user: 'mailer', password: 'smtp-S3cret' },
  }
  await api.configurePlugin(p.id, conf)
  const [after] = await api.plugins()
  assert.deepEqual(after!.configuration, {
    ...conf,
    transport: { ...conf.transport, password: OBFUSCATED },
  })
  const stored = () =>
    xo.redis(
      async (c) => JSON.parse((await c.get('xo:plugin-metadata:transport-email'))!) as Record<string, string>,
    )
  assert.equal(JSON.parse((await stored()).configuration!).transport.password, 'smtp-S3cret')
  // Sending back what XO answered (the placeholder) keeps the stored secret: XO merges it.
  await api.configurePlugin(p.id, after!.configuration!)
  assert.equal(JSON.parse((await stored()).configuration!).transport.password, 'smtp-S3cret')

  await api.loadPlugin(p.id)
  assert.equal((await api.plugins())[0]!.loaded, true)
  await rejectsXo(api.loadPlugin(p.id), 10, /already loaded/)
  await api.unloadPlugin(p.id)
  await api.setPluginAutoload(p.id, false)
  const [off] = await api.plugins()
  assert.deepEqual([off!.loaded, off!.autoload], [false, false])
  assert.equal((await stored()).autoload, 'false')
  await api.setPluginAutoload(p.id, true)
  assert.equal((await api.plugins())[0]!.autoload, true)
  await rejectsXo(api.loadPlugin('no-such-plugin'), 1, /no such plugin no-such-plugin/)
})

test('servers: stored even when unreachable (disconnected, its error kept), never answered with the password', async (t) => {
  const xo = await startStandIn(t)
  const api = await openXoApi(xo.spec, admin)
  t.after(() => api.close())
  const closed = await freePort() // nothing listens: connection refused
  const id = await api.addServer({
    label: 'lab pool',
    host: `127.0.0.1:${closed}`,
    username: 'root',
    password: 'xapi-S3cret',
    allowUnauthorized: true,
    readOnly: true, // server.add refuses readOnly: the client sets it with server.set
  })
  let [s] = await api.servers()
  for (let i = 0; i < 100 && s?.error === undefined; i++) {
    await sleep(50)
    ;[s] = await api.servers()
  }
  assert.deepEqual(
    { ...s, error: undefined },
    {
      id,
      label: 'lab pool',
      host: `127.0.0.1:${closed}`,
      username: 'root',
      allowUnauthorized: true,
      readOnly: true,
      enabled: true,
      status: 'disconnected',
      error: undefined,
    },
  )
  assert.match(JSON.stringify(s!.error), /ECONNREFUSED/)
  // XO's own answer has no password; Redis has it (booleans as upstream serializes them).
  const session = await openSession(xo.spec, admin)
  t.after(() => session.close())
  const raw = (await session.call('server.getAll')) as Record<string, unknown>[]
  assert.ok(!('password' in raw[0]!) && !JSON.stringify(raw).includes('xapi-S3cret'))
  const record = await xo.redis(async (c) => JSON.parse((await c.get(`xo:server:${id}`))!))
  assert.deepEqual([record.password, record.readOnly, record.enabled], ['xapi-S3cret', 'true', 'true'])
  assert.deepEqual(await xo.redis((c) => c.sMembers(`xo:server_host:127.0.0.1:${closed}`)), [id])

  await rejectsXo(
    api.addServer({
      label: 'again',
      host: `127.0.0.1:${closed}`,
      username: 'u',
      password: 'p',
      allowUnauthorized: false,
      readOnly: false,
    }),
    16,
    /server already exists/,
  )
  // server.enable waits for the connection: an unreachable pool is XO's error, the server stays enabled.
  await rejectsXo(api.enableServer(id), -32000, /ECONNREFUSED/)
  await api.disableServer(id)
  assert.equal((await api.servers())[0]!.enabled, false)
  await rejectsXo(api.disableServer(id), 25, /incorrect state/)
  await api.setServer(id, { label: 'renamed', readOnly: false, password: 'xapi-N3w' })
  const [renamed] = await api.servers()
  assert.deepEqual([renamed!.label, renamed!.readOnly], ['renamed', false])
  assert.equal(
    (await xo.redis(async (c) => JSON.parse((await c.get(`xo:server:${id}`))!))).password,
    'xapi-N3w',
  )
  // Declared disabled: stored disabled and never tried (no error, nothing connected to the host).
  const quiet = await api.addServer({
    label: 'off',
    host: `127.0.0.1:${closed + 1}`,
    username: 'root',
    password: 'p',
    allowUnauthorized: false,
    readOnly: false,
    enabled: false,
  })
  await sleep(300)
  const off = (await api.servers()).find((x) => x.id === quiet)!
  assert.deepEqual([off.enabled, off.status, off.error], [false, 'disconnected', undefined])
  await api.removeServer(quiet)
  await api.removeServer(id)
  assert.deepEqual(await api.servers(), [])
  await rejectsXo(api.removeServer(id), 1, /no such xenServer/)
})

test('remotes: created enabled, URL passwords obfuscated in answers, an obfuscated URL sent back keeps the password', async (t) => {
  const xo = await startStandIn(t)
  const api = await openXoApi(xo.spec, admin)
  t.after(() => api.close())
  const file = await api.createRemote({ name: 'local', url: 'file:///var/backups/xo/' })
  const nfs = await api.createRemote({ name: 'nas', url: 'nfs://nas.test:/export/xo', options: 'vers=4' })
  const smbUrl = 'smb://backup:smb-S3cret@WORKGROUP\\\\fs.test\0share\\xo'
  const smb = await api.createRemote({ name: 'smb', url: smbUrl })
  await api.setRemote(nfs, { enabled: false })
  const byName = Object.fromEntries((await api.remotes()).map((r) => [r.name, r]))
  // file: the path as XO normalizes it (format(parse(url)): no trailing slash).
  assert.deepEqual(byName.local, { id: file, name: 'local', url: 'file:///var/backups/xo', enabled: true })
  assert.deepEqual(byName.nas, {
    id: nfs,
    name: 'nas',
    url: 'nfs://nas.test:/export/xo',
    enabled: false,
    options: 'vers=4',
  })
  assert.equal(byName.smb!.url, `smb://backup:${OBFUSCATED}@WORKGROUP\\\\fs.test\0share\\xo`)
  const storedUrl = async () =>
    (await xo.redis(async (c) => JSON.parse((await c.get(`xo:remote:${smb}`))!))).url
  assert.equal(await storedUrl(), smbUrl)
  await api.setRemote(smb, { url: byName.smb!.url, name: 'smb2' })
  assert.equal(await storedUrl(), smbUrl, 'the placeholder did not replace the stored password')
  await api.setRemote(smb, { url: smbUrl.replace('smb-S3cret', 'smb-N3w') })
  assert.match(await storedUrl(), /smb-N3w/)
  await rejectsXo(
    api.createRemote({ name: 'bad', url: 'file:///x/xo-vm-backups' }),
    10,
    /should not end with xo-vm-backups/,
  )
  await rejectsXo(api.createRemote({ name: '', url: 'file:///y' }), 10, /fewer than 1 characters/)
  await api.removeRemote(file)
  assert.deepEqual((await api.remotes()).map((r) => r.name).sort(), ['nas', 'smb2'])
})

test('users, groups and ACLs: membership on both sides, a deleted subject takes its ACLs, self-delete refused', async (t) => {
  const xo = await startStandIn(t)
  const api = await openXoApi(xo.spec, admin)
  t.after(() => api.close())
  const me = (await api.users()).find((u) => u.email === admin.email)!
  const alice = await api.createUser({
    email: 'alice@example.test',
    password: 'alice-pw-1',
    permission: 'none',
  })
  await rejectsXo(
    api.createUser({ email: 'alice@example.test', password: 'x', permission: 'none' }),
    -32000,
    /already exists/,
  )
  await api.setUser(alice, { permission: 'read', password: 'alice-pw-2' })
  const signedIn = await openXoApi(xo.spec, { email: 'alice@example.test', password: 'alice-pw-2' })
  // A user without admin permission is signed in but refused admin methods.
  await rejectsXo(signedIn.users(), 2, /not enough permissions/)
  await signedIn.close()
  await rejectsXo(api.setUser(me.id, { permission: 'none' }), 10, /cannot change its own permission/)
  await rejectsXo(api.deleteUser(me.id), 10, /cannot delete itself/)

  const ops = await api.createGroup('ops')
  await rejectsXo(api.createGroup('ops'), 16, /group already exists/)
  await api.addUserToGroup(alice, ops)
  assert.deepEqual((await api.groups()).find((g) => g.id === ops)!.users, [alice])
  assert.deepEqual(
    (await api.users()).find((u) => u.id === alice),
    {
      id: alice,
      email: 'alice@example.test',
      permission: 'read',
      groups: [ops],
    },
  )
  const acl = { subject: ops, object: 'pool-uuid-1', action: 'operator' }
  await api.addAcl(acl)
  await api.addAcl(acl) // already there: XO answers success, one entry
  await api.addAcl({ subject: alice, object: 'sr-uuid-2', action: 'viewer' })
  assert.equal((await api.acls()).length, 2)
  await api.removeUserFromGroup(alice, ops)
  assert.deepEqual((await api.groups())[0]!.users, [])
  assert.deepEqual((await api.users()).find((u) => u.id === alice)!.groups, [])
  await api.removeAcl(acl)
  assert.deepEqual(await api.acls(), [{ subject: alice, object: 'sr-uuid-2', action: 'viewer' }])
  await api.deleteUser(alice)
  assert.deepEqual(await api.acls(), [], "the user's ACLs went with it")
  await api.deleteGroup(ops)
  assert.deepEqual(await api.groups(), [])
  assert.deepEqual(
    (await api.users()).map((u) => u.email),
    [admin.email],
  )
})

test('exportConfig: the one-shot $getFrom download over the pinned connection, secrets in clear', async (t) => {
  const xo = await startStandIn(t)
  const api = await openXoApi(xo.spec, admin)
  t.after(() => api.close())
  await api.addServer({
    label: 'p',
    host: '127.0.0.1:1',
    username: 'root',
    password: 'xapi-S3cret',
    allowUnauthorized: false,
    readOnly: false,
  })
  await api.createRemote({ name: 'r', url: 's3://key:s3-S3cret@s3.test/bucket/xo' })
  const config = JSON.parse((await api.exportConfig()).toString('utf8'))
  assert.deepEqual(Object.keys(config).sort(), [
    'acls',
    'groups',
    'plugins',
    'remotes',
    'users',
    'xenServers',
  ])
  assert.equal(config.xenServers[0].password, 'xapi-S3cret')
  assert.match(config.remotes[0].url, /s3-S3cret/)
  assert.ok(config.users.some((u: { email: string }) => u.email === admin.email))
  // The path is a one-shot capability: a second GET of the same path is not the export.
  const session = await openSession(xo.spec, admin)
  t.after(() => session.close())
  const { $getFrom } = (await session.call('xo.exportConfig', { compress: false })) as { $getFrom: string }
  assert.match($getFrom, /^\/api\/[\w-]{43}\/XO-config_\d{8}T\d{6}Z\.json$/)
  assert.ok((await session.download($getFrom)).length > 0)
  await assert.rejects(session.download($getFrom), /answered 404/)
})

test('sign-in: a wrong password is XO\'s "invalid credentials"; nothing is sent over plain HTTP', async (t) => {
  const xo = await startStandIn(t)
  await rejectsXo(openXoApi(xo.spec, { ...admin, password: 'wrong' }), 3, /invalid credentials/)
  const plain = specFor(xo.dir, { httpsPort: 1, cert: join(xo.dir, 'cert.pem'), ssl: false })
  await assert.rejects(openXoApi(plain, admin), /XO's API not used: HTTPS is off/)
})

test('pin: a TLS server with another certificate never receives a byte, so never the password', async (t) => {
  const dir = tempDir(t, 'xoa-xo-state-pin-')
  const right = await generateSelfSigned({ names })
  const other = await generateSelfSigned({ names })
  writeFileSync(join(dir, 'cert.pem'), right.certPem)
  let bytes = ''
  let connections = 0
  const server = createTlsServer({ key: other.keyPem, cert: other.certPem }, (sock) => {
    sock.on('data', (d: Buffer) => (bytes += d.toString('latin1')))
    sock.on('error', () => {})
  })
  server.on('connection', () => connections++)
  const port = await freePort()
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r))
  t.after(() => server.close())
  await assert.rejects(
    openXoApi(specFor(dir, { httpsPort: port, cert: join(dir, 'cert.pem') }), admin),
    /presented certificate .* not the configured/,
  )
  assert.equal(connections, 1, 'the client did reach the impostor (the test can fail)')
  assert.equal(bytes, '', 'nothing at all was written to the wrong peer')
})

test('xo-server dying mid-session fails the next call (no hang, no crash of xoa)', async (t) => {
  const xo = await startStandIn(t)
  const api = await openXoApi(xo.spec, admin, { timeoutMs: 20_000 })
  assert.ok((await api.users()).length >= 1)
  xo.kill()
  await sleep(200)
  const t0 = Date.now()
  await assert.rejects(api.users(), /XO user.getAll: .*(closed|invalid status)/)
  assert.ok(Date.now() - t0 < 5000, 'failed at once, not at the deadline')
  await api.close()
})

test('bundled as dist/xoa.mjs is (esbuild, xo-lib and ws inlined), the client signs in and calls', async (t) => {
  const xo = await startStandIn(t)
  const out = join(tempDir(t, 'xoa-xo-state-bundle-'), 'client.mjs')
  const { build } = await import('esbuild')
  await build({
    entryPoints: [join(import.meta.dirname, '..', '..', 'src', 'xo-state', 'client.ts')],
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'error',
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
  })
  const bundled = (await import(out)) as typeof import('../../src/xo-state/client.ts')
  const api = await bundled.openXoApi(xo.spec, admin)
  t.after(() => api.close())
  assert.ok((await api.users()).some((u) => u.email === admin.email))
})
