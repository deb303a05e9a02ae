// Invariant 6 as seen from the installed tree: acting as the service account (and as a stranger), try to
// change what root runs or read what is secret. Each attempt must be refused by the file system itself.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { parsePasswd } from '../../src/plan/accounts.ts'
import { REPO, tempDir, xoa } from '../helpers.ts'
import { makeTargetRoot } from './target-root.ts'

function as(uid: number, gids: number[], script: string, ...args: string[]) {
  const [gid, ...extra] = gids
  return spawnSync(
    'setpriv',
    [
      `--reuid=${uid}`,
      `--regid=${gid}`,
      extra.length ? `--groups=${extra.join(',')}` : '--clear-groups',
      '--',
      'sh',
      '-c',
      script,
      'sh',
      ...args,
    ],
    { encoding: 'utf8' },
  )
}

test('the service account cannot change what root runs nor read root secrets; others read nothing secret', (t) => {
  const root = makeTargetRoot(tempDir(t))
  const r = xoa(['apply', '--spec', join(REPO, 'examples', 'xoa.toml'), '--root', root, '--yes'])
  assert.equal(r.status, 0, r.stderr)
  const users = parsePasswd(readFileSync(join(root, 'etc', 'passwd'), 'utf8'))
  const xo = users.find((u) => u.name === 'xo')
  assert.ok(xo)
  const redisGid = Number(/^redis-xo:x:(\d+):/m.exec(readFileSync(join(root, 'etc', 'group'), 'utf8'))?.[1])
  const svc = [xo.gid, redisGid]
  const p = (path: string) => join(root, path)
  const write = 'echo pwned > "$1"'
  const read = 'cat "$1" >/dev/null'

  // Positive controls: the service account does write its own dirs and read its config, so a refusal
  // below is the permission, not a broken harness.
  for (const d of ['/var/lib/xo/data', '/var/lib/xo/tmp', '/var/lib/xo/mounts', '/var/lib/xo/home/.config'])
    assert.equal(as(xo.uid, svc, write, p(`${d}/probe`)).status, 0, d)
  // (The secrets are xoa bootstrap's, not apply's: test/run/secrets.test.ts tries them the same way.)
  assert.equal(as(xo.uid, svc, read, p('/etc/xo-server/config.toml')).status, 0)

  const refusedWrites = [
    '/var/lib/xo/probe',
    '/var/lib/xo/releases/probe',
    '/var/lib/xo/runtimes/probe',
    '/var/lib/xo/bin/sudo',
    '/var/lib/xo/current',
    '/etc/xo-server/config.z-override.toml',
    '/etc/xo-server/config.toml',
    '/etc/xoa/xoa.toml',
    '/etc/systemd/system/xo-server.service',
    '/etc/sudoers.d/xo',
    '/etc/ssl/xo/probe',
  ]
  for (const f of refusedWrites) {
    const w = as(xo.uid, svc, write, p(f))
    assert.notEqual(w.status, 0, `xo could write ${f}`)
    assert.match(w.stderr, /Permission denied|Read-only/, f)
  }
  // The installed spec too: extraServerEnv and xo.settings may hold credentials (issue 10, finding 11).
  const refusedReads = ['/etc/xoa/xo-server.env', '/etc/xoa/xoa.toml', '/etc/shadow']
  for (const f of refusedReads) assert.notEqual(as(xo.uid, svc, read, p(f)).status, 0, `xo could read ${f}`)

  // A stranger (no group in common) reads neither the config (it may hold LDAP/SMTP credentials) nor secrets.
  for (const f of ['/etc/xo-server/config.toml', ...refusedReads])
    assert.notEqual(as(54321, [54321], read, p(f)).status, 0, `a stranger could read ${f}`)

  // No group membership leads to root: the service account is in none of sudo, systemd-journal, its own only.
  const group = readFileSync(join(root, 'etc', 'group'), 'utf8')
  for (const g of ['sudo', 'root', 'systemd-journal', 'xoa'])
    assert.doesNotMatch(group, new RegExp(`^${g}:x:\\d+:(.*,)?xo(,|$)`, 'm'), g)
  assert.equal(xo.shell, '/usr/sbin/nologin')
})
