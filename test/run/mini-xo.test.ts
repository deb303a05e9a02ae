// The stand-in xo-server behaves like upstream where xoa depends on it (docs/testing.md, "The stand-in XO"):
// records as JSON strings with upstream's index and bookkeeping keys, an older hash record counted as a user,
// an id without a record not, the default admin created after listening, config found through
// $XDG_CONFIG_HOME and `.xo-server.*` in the working directory, REST ?fields with href, SIGTERM's goodbye.
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { startRedis, withDb } from '../backup/redis-server.ts'
import { bundleMiniXo } from '../fixtures/mini-xo/bundle.ts'
import { freePort, tempDir } from '../helpers.ts'

async function startServer(t: { after(fn: () => unknown): void }, socket: string) {
  const dir = tempDir(t, 'xoa-mini-xo-')
  const cli = join(dir, 'cli.mjs')
  writeFileSync(cli, await bundleMiniXo('server'))
  const port = await freePort()
  mkdirSync(join(dir, 'home', 'xo-server'), { recursive: true })
  // The XDG config names a port that the working directory's .xo-server.json overrides (merged last upstream).
  writeFileSync(
    join(dir, 'home', 'xo-server', 'config.toml'),
    `[http.listen.0]\nhostname = '127.0.0.1'\nport = 1\n\n[redis]\nsocket = '${socket}'\n`,
  )
  writeFileSync(join(dir, '.xo-server.json'), JSON.stringify({ http: { listen: { 0: { port } } } }))
  const child: ChildProcess = spawn(process.execPath, [cli], {
    cwd: dir,
    env: { PATH: process.env.PATH, XDG_CONFIG_HOME: join(dir, 'home') },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout!.on('data', (d) => (output += d))
  child.stderr!.on('data', (d) => (output += d))
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
  t.after(() => child.kill('SIGKILL'))
  const base = `http://127.0.0.1:${port}`
  for (let i = 0; i < 200; i++) {
    if (
      await fetch(`${base}/rest/v0/ping`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break
    await sleep(50)
  }
  return { base, child, exited, output: () => output }
}

const basic = (user: string, pw: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}`,
})

test('no user (an id without its record is none): admin@admin.net created after listening, stored as upstream does', async (t) => {
  const redis = await startRedis(t)
  await withDb(redis.socket, 0, (c) => c.sAdd('xo:user_ids', 'ghost'))
  const s = await startServer(t, redis.socket)
  for (let i = 0; i < 100 && !/Default user created/.test(s.output()); i++) await sleep(50)
  const out = s.output()
  assert.ok(out.indexOf('Web server listening') < out.indexOf('Default user created: admin@admin.net'), out)

  await withDb(redis.socket, 0, async (c) => {
    const ids = (await c.sMembers('xo:user_ids')).filter((id) => id !== 'ghost')
    assert.equal(ids.length, 1)
    const id = ids[0]!
    assert.equal(await c.type(`xo:user:${id}`), 'string')
    const record = JSON.parse((await c.get(`xo:user:${id}`))!)
    assert.deepEqual([record.email, record.permission, 'id' in record], ['admin@admin.net', 'admin', false])
    assert.deepEqual(await c.sMembers('xo:user_email:admin@admin.net'), [id])
    assert.ok(await c.sIsMember('xo::namespaces', 'user'))
    assert.equal(await c.get('xo:user:version'), '20170905')
    assert.deepEqual(await c.sMembers('xo:user::indexes'), ['email'])
  })

  const list = await fetch(`${s.base}/rest/v0/users`, { headers: basic('admin@admin.net', 'admin') })
  assert.equal(list.status, 200)
  const hrefs = (await list.json()) as string[]
  assert.match(hrefs[0]!, /^\/rest\/v0\/users\/[0-9a-f-]{36}$/)
  const fields = await fetch(`${s.base}/rest/v0/users?fields=email,permission`, {
    headers: basic('admin@admin.net', 'admin'),
  })
  assert.deepEqual(await fields.json(), [{ email: 'admin@admin.net', permission: 'admin', href: hrefs[0] }])
  assert.equal(
    (await fetch(`${s.base}/rest/v0/users`, { headers: basic('admin@admin.net', 'x') })).status,
    401,
  )

  s.child.kill('SIGTERM')
  assert.equal(await s.exited, 0)
  assert.match(s.output(), /SIGTERM caught, closing…\nbye :-\)/)
})

test('a user still stored as a hash (before upstream #7113) is a user: no default admin', async (t) => {
  const redis = await startRedis(t)
  await withDb(redis.socket, 0, async (c) => {
    await c.sAdd('xo:user_ids', 'u1')
    await c.hSet('xo:user:u1', { email: 'old@example.test', permission: 'admin' })
  })
  const s = await startServer(t, redis.socket)
  await sleep(500)
  assert.doesNotMatch(s.output(), /Default user created/)
  await withDb(redis.socket, 0, async (c) => {
    assert.deepEqual(await c.sMembers('xo:user_ids'), ['u1'])
    // The index is rebuilt from the hash on the collection's first start, as upstream's rebuildIndexes does.
    assert.deepEqual(await c.sMembers('xo:user_email:old@example.test'), ['u1'])
  })
})
