// A container has no `xoa apply`: `xoa up` as root creates the service account and group it runs XO as,
// with the ids the spec sets. Real accounts in the real /etc/passwd: a throwaway name, removed afterwards.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { checkHealth } from '../../src/run/health.ts'
import { privateRuntimes } from '../build/helpers.ts'
import { miniXoClis } from '../fixtures/mini-xo/bundle.ts'
import { createFixture } from '../fixtures/monorepo.ts'
import { processTree } from '../harness/proc.ts'
import { freePort, tempDir } from '../helpers.ts'
import { startUp, stopUp, upSpec } from './xoa-up.ts'

const getent = (db: string, key: string) => spawnSync('getent', [db, key], { encoding: 'utf8' })

function freeId(): number {
  for (;;) {
    const id = 20000 + Math.floor(Math.random() * 40000)
    if (getent('passwd', String(id)).status !== 0 && getent('group', String(id)).status !== 0) return id
  }
}

test('xoa up as root creates the missing service account with the spec ids and runs XO as it', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root (useradd)')
  const name = `xoatest-${randomBytes(3).toString('hex')}`
  t.after(() => {
    spawnSync('userdel', [name])
    spawnSync('groupdel', [name])
  })
  const root = tempDir(t, 'xoa-up-account-')
  chmodSync(root, 0o755)
  const src = join(root, 'src')
  const rev = createFixture(src, await miniXoClis())
  const ports = { http: await freePort(), https: await freePort() }
  const [uid, gid] = [freeId(), freeId()]
  const spec = upSpec(root, { ports, source: { url: src, rev } }) as Record<string, object>
  spec.service = { user: name, group: name, uid, gid }
  const specFile = join(root, 'xoa.json')
  writeFileSync(specFile, JSON.stringify(spec))

  const u = startUp(specFile, [], privateRuntimes(root))
  t.after(() => u.kill())
  await u.ready
  assert.match(u.output(), new RegExp(`created the service account: group ${name}, user ${name}`))
  assert.match(getent('passwd', name).stdout, new RegExp(`^${name}:x:${uid}:${gid}:`))
  assert.match(getent('group', name).stdout, new RegExp(`^${name}:x:${gid}:`))
  // What XO writes belongs to that account: it runs as it.
  const data = statSync(join(root, 'data'))
  assert.deepEqual([data.uid, data.gid], [uid, gid])
  const health = await checkHealth(
    {
      url: `https://127.0.0.1:${ports.https}`,
      pinnedCert: readFileSync(join(root, 'ssl', 'cert.pem'), 'utf8'),
    },
    {
      email: 'ops@example.test',
      password: readFileSync(join(root, 'state', 'secrets', 'admin-password'), 'utf8').trim(),
    },
  )
  assert.deepEqual(health, { healthy: true, ping: true, signIn: true }, u.output())
  // xo-server and Redis hold no capability in any set and cannot gain one (no_new_privs), as the kernel says.
  const tree = processTree(u.child.pid!)
  for (const re of [/xo-server\/dist\/cli\.mjs/, /(^|\/)redis-server /]) {
    const proc = tree.find((x) => re.test(x.cmdline))
    assert.ok(proc, `${re} runs: ${tree.map((x) => x.cmdline).join('\n')}`)
    assert.equal(proc.status.Uid, `${uid}\t${uid}\t${uid}\t${uid}`)
    for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapAmb', 'CapBnd'])
      assert.equal(proc.status[set], '0000000000000000', `${proc.cmdline}: ${set}`)
    assert.equal(proc.status.NoNewPrivs, '1', `${proc.cmdline}: NoNewPrivs`)
  }
  assert.equal(await stopUp(u), 0, u.output())
})
