// The sshd drop-in passes the real `sshd -t`, and sshd's effective config says keys only, no root.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { renderAuthorizedKeys, renderSshdDropIn } from '../../src/render/sshd.ts'
import { tempDir } from '../helpers.ts'
import { spec } from './cases.ts'

const SSHD = '/usr/sbin/sshd'

function sshdConfig(t: Parameters<typeof tempDir>[0], dropIn: string) {
  const dir = tempDir(t, 'xoa-sshd-')
  const hostKey = join(dir, 'ssh_host_ed25519_key')
  const keygen = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey], {
    encoding: 'utf8',
  })
  assert.equal(keygen.status, 0, keygen.stderr)
  writeFileSync(join(dir, 'xoa.conf'), dropIn)
  const main = join(dir, 'sshd_config')
  // Like Debian's sshd_config: the drop-ins first (first value wins), then permissive settings they override.
  writeFileSync(
    main,
    `Include ${join(dir, 'xoa.conf')}\nHostKey ${hostKey}\nPidFile none\nPermitRootLogin yes\nPasswordAuthentication yes\nKbdInteractiveAuthentication yes\n`,
  )
  return main
}

test('sshd -t accepts the drop-in, and it wins over a permissive main config', (t) => {
  const [f] = renderSshdDropIn(spec())
  assert.ok(f)
  assert.equal(f.path, '/etc/ssh/sshd_config.d/xoa.conf')
  assert.equal(f.validate, 'sshd')
  // sshd -t insists on its privilege separation directory, which Debian's ssh.service creates at start.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 })
  const main = sshdConfig(t, f.content)
  const check = spawnSync(SSHD, ['-t', '-f', main], { encoding: 'utf8' })
  assert.equal(check.status, 0, check.stderr)
  const eff = spawnSync(SSHD, ['-T', '-f', main, '-C', 'user=xoa,host=h,addr=192.0.2.1'], {
    encoding: 'utf8',
  })
  assert.equal(eff.status, 0, eff.stderr)
  const cfg = new Map(eff.stdout.split('\n').map((l) => [l.split(' ')[0], l.slice(l.indexOf(' ') + 1)]))
  assert.equal(cfg.get('permitrootlogin'), 'no')
  assert.equal(cfg.get('passwordauthentication'), 'no')
  assert.equal(cfg.get('kbdinteractiveauthentication'), 'no')
  assert.equal(cfg.get('pubkeyauthentication'), 'yes')
  assert.equal(cfg.get('authenticationmethods'), 'publickey')
})

test('sshd -t rejects a broken drop-in (the validator is real)', (t) => {
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 })
  const main = sshdConfig(t, 'PermitRootLogin maybe\n')
  assert.notEqual(spawnSync(SSHD, ['-t', '-f', main]).status, 0)
})

test('no drop-in when admin.sshd or admin.enable is off', () => {
  assert.deepEqual(renderSshdDropIn(spec({ admin: { sshd: false } })), [])
  assert.deepEqual(renderSshdDropIn(spec({ admin: { enable: false } })), [])
})

test('authorized_keys: exactly the spec keys, 0600, owned by the admin', (t) => {
  const dir = tempDir(t, 'xoa-keys-')
  const gen = spawnSync('ssh-keygen', [
    '-q',
    '-t',
    'ed25519',
    '-N',
    '',
    '-C',
    'admin@example',
    '-f',
    join(dir, 'k'),
  ])
  assert.equal(gen.status, 0)
  const KEY = readFileSync(join(dir, 'k.pub'), 'utf8').trim()
  const [f] = renderAuthorizedKeys(spec({ admin: { user: 'ops', authorizedKeys: [KEY] } }))
  assert.ok(f)
  assert.equal(f.path, '/home/ops/.ssh/authorized_keys')
  assert.deepEqual([f.mode, f.owner, f.group], [0o600, 'ops', 'ops'])
  assert.deepEqual(
    f.content.split('\n').filter((l) => l && !l.startsWith('#')),
    [KEY],
  )
  writeFileSync(join(dir, 'authorized_keys'), f.content)
  const keygen = spawnSync('ssh-keygen', ['-l', '-f', join(dir, 'authorized_keys')], { encoding: 'utf8' })
  assert.equal(keygen.status, 0, keygen.stderr)
  assert.deepEqual(renderAuthorizedKeys(spec({ admin: { enable: false } })), [])
})
