// xoa plan/apply --root on the example spec: the files land with the right owners and modes, pass the real
// validators, a second apply changes nothing, and a changed spec field shows exactly the expected lines.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { parse as parseToml } from 'smol-toml'
import { REPO, tempDir } from '../helpers.ts'
import { makeTargetRoot, snapshotCli, xoaWith } from './target-root.ts'

// Every step of this file runs the same program, even if dist/ is re-bundled meanwhile.
const BIN = snapshotCli(mkdtempSync(join(tmpdir(), 'xoa-cli-')))
const xoa = (args: string[]) => xoaWith(BIN, args)
process.on('exit', () => rmSync(join(BIN, '..'), { recursive: true, force: true }))

const EXAMPLE = join(REPO, 'examples', 'xoa.toml')

function applyJson(root: string, spec = EXAMPLE) {
  const r = xoa(['apply', '--spec', spec, '--root', root, '--json', '--yes'])
  assert.equal(r.status, 0, r.stderr)
  return JSON.parse(r.stdout) as {
    changes: number
    resources: { symbol: string; kind: string; name: string; details: string[] }[]
  }
}

function changedLines(stdout: string): string[] {
  return stdout.split('\n').filter((l) => /^[+~x] /.test(l))
}

function run(cmd: string, args: string[]) {
  return spawnSync(cmd, args, { encoding: 'utf8' })
}

test('apply --root installs the example spec; validators pass; a second apply changes nothing', (t) => {
  const root = makeTargetRoot(tempDir(t))
  const first = applyJson(root)
  assert.ok(first.changes > 30, `first apply made ${first.changes} changes`)

  const passwd = readFileSync(join(root, 'etc', 'passwd'), 'utf8')
  assert.match(passwd, /^xo:x:\d+:\d+:[^:]*:\/var\/lib\/xo:\/usr\/sbin\/nologin$/m)
  assert.match(passwd, /^xoa:x:\d+:\d+:[^:]*:\/home\/xoa:\/bin\/bash$/m)
  assert.match(passwd, /^redis-xo:x:\d+:\d+:[^:]*:\/var\/lib\/redis-xo:\/usr\/sbin\/nologin$/m)
  // No account xoa creates has a usable password.
  const shadow = readFileSync(join(root, 'etc', 'shadow'), 'utf8')
  for (const u of ['xo', 'xoa', 'redis-xo']) assert.match(shadow, new RegExp(`^${u}:!`, 'm'), u)
  const group = readFileSync(join(root, 'etc', 'group'), 'utf8')
  assert.match(group, /^sudo:x:\d+:xoa$/m)
  assert.match(group, /^systemd-journal:x:\d+:xoa$/m)
  assert.match(group, /^redis-xo:x:\d+:xo$/m)

  // The real validators accept what was installed.
  const sudoers = join(root, 'etc', 'sudoers.d')
  for (const f of readdirSync(sudoers)) {
    const v = run('visudo', ['-cf', join(sudoers, f)])
    assert.equal(v.status, 0, v.stdout + v.stderr)
  }
  const config = readFileSync(join(root, 'etc', 'xo-server', 'config.toml'), 'utf8')
  const parsed = parseToml(config) as { redis?: { socket?: string }; datadir?: string }
  assert.equal(parsed.redis?.socket, '/run/redis-xo/redis.sock')
  assert.equal(parsed.datadir, '/var/lib/xo/data')
  verifyUnits(t, join(root, 'etc', 'systemd', 'system'))
  verifySshd(t, join(root, 'etc', 'ssh', 'sshd_config.d', 'xoa.conf'))

  // Enabled offline, the way `systemctl --root` does it.
  assert.equal(
    readlinkSync(join(root, 'etc/systemd/system/multi-user.target.wants/xo-server.service')),
    '/etc/systemd/system/xo-server.service',
  )

  const second = applyJson(root)
  assert.equal(
    second.changes,
    0,
    JSON.stringify(second.resources.filter((r) => r.symbol !== '=' && r.symbol !== '!')),
  )
  const plan = xoa(['plan', '--spec', EXAMPLE, '--root', root])
  assert.equal(plan.status, 0, plan.stderr)
  assert.deepEqual(changedLines(plan.stdout), [])
  assert.match(plan.stdout, /^Plan: 0 to create, 0 to change, \d+ unchanged, 11 skipped\.$/m)
})

/** systemd-analyze verify, where the only complaint allowed is a binary the build installs later. */
function verifyUnits(t: { after(fn: () => void): void }, dir: string) {
  const copy = tempDir(t)
  const units = readdirSync(dir).filter((f) => /\.(service|socket|timer)$/.test(f))
  assert.ok(units.includes('xo-server.service') && units.includes('redis-xo.service'), units.join(' '))
  for (const u of units) cpSync(join(dir, u), join(copy, u))
  const v = run('systemd-analyze', [
    'verify',
    '--man=no',
    '--generators=no',
    ...units.map((u) => join(copy, u)),
  ])
  const complaints = `${v.stdout}${v.stderr}`
    .split('\n')
    .filter((l) => l.trim() !== '')
    .filter((l) => !/Command (\/var\/lib\/xo\/current\/|\/usr\/local\/bin\/xoa)\S* is not executable/.test(l))
  assert.deepEqual(complaints, [])
}

function verifySshd(t: { after(fn: () => void): void }, dropIn: string) {
  const dir = tempDir(t)
  assert.equal(run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'hk')]).status, 0)
  writeFileSync(join(dir, 'main'), `HostKey ${join(dir, 'hk')}\nInclude ${dropIn}\n`)
  const v = run('unshare', [
    '--mount',
    'sh',
    '-c',
    'mount -t tmpfs tmpfs /run && mkdir /run/sshd && exec sshd -t -f "$1"',
    'sh',
    join(dir, 'main'),
  ])
  assert.equal(v.status, 0, v.stderr)
}

test('a changed spec field shows exactly the expected ~ lines, and apply makes just those', (t) => {
  const root = makeTargetRoot(tempDir(t))
  applyJson(root)
  const spec = join(tempDir(t), 'xoa.toml')
  writeFileSync(spec, readFileSync(EXAMPLE, 'utf8').replace(/^port = 80 /m, 'port = 8080 '))
  const plan = xoa(['plan', '--spec', spec, '--root', root])
  assert.equal(plan.status, 0, plan.stderr)
  assert.deepEqual(changedLines(plan.stdout), [
    '~ file /etc/systemd/system/xo-server.service (content +1 −1 lines)',
    '~ file /etc/xo-server/config.toml (content +1 −1 lines)',
    '~ file /etc/xoa/xoa.toml (content +1 −1 lines)',
  ])
  const applied = xoa(['apply', '--spec', spec, '--root', root, '--yes'])
  assert.equal(applied.status, 0, applied.stderr)
  assert.deepEqual(changedLines(applied.stdout), changedLines(plan.stdout))
  assert.match(readFileSync(join(root, 'etc/xo-server/config.toml'), 'utf8'), /port = 8080/)
})

test('apply creates the service account with the uid/gid the spec sets, and refuses to renumber it', (t) => {
  const root = makeTargetRoot(tempDir(t))
  const spec = join(tempDir(t), 'xoa.toml')
  const withIds = (uid: number, gid: number) =>
    writeFileSync(
      spec,
      readFileSync(EXAMPLE, 'utf8').replace(/^group = "xo"$/m, `group = "xo"\nuid = ${uid}\ngid = ${gid}`),
    )
  withIds(4321, 4322)
  applyJson(root, spec)
  assert.match(readFileSync(join(root, 'etc', 'passwd'), 'utf8'), /^xo:x:4321:4322:/m)
  assert.match(readFileSync(join(root, 'etc', 'group'), 'utf8'), /^xo:x:4322:/m)
  // Other ids than the account has: nothing changes, and the field is named.
  withIds(4400, 4322)
  const passwd = readFileSync(join(root, 'etc', 'passwd'), 'utf8')
  const r = xoa(['apply', '--spec', spec, '--root', root, '--yes'])
  assert.equal(r.status, 1, r.stdout)
  assert.match(r.stderr, /user xo: exists with uid 4321, but service\.uid = 4400/)
  assert.equal(readFileSync(join(root, 'etc', 'passwd'), 'utf8'), passwd)
})

test('apply writes no secret: each is shown as managed at run time by xoa bootstrap, and left alone', (t) => {
  const root = makeTargetRoot(tempDir(t))
  const first = xoa(['apply', '--spec', EXAMPLE, '--root', root, '--yes'])
  assert.equal(first.status, 0, first.stderr)
  const files = [
    '/var/lib/xo/secrets/admin-password',
    '/var/lib/xo/secrets/session-secret',
    '/etc/xo-server/config.z-secrets.toml',
    '/var/lib/xo/secrets/xo-server.env',
  ]
  for (const f of files) assert.equal(existsSync(join(root, f)), false, `apply wrote ${f}`)
  const plan = xoa(['plan', '--spec', EXAMPLE, '--root', root])
  for (const f of files)
    assert.match(plan.stdout, new RegExp(`^= secret ${f} \\(managed at run time by xoa bootstrap: `, 'm'), f)
  assert.deepEqual(changedLines(plan.stdout), [])

  // What bootstrap made (here by hand, wrong mode on purpose) is neither read, rewritten nor re-moded by apply.
  const pwFile = join(root, 'var/lib/xo/secrets/admin-password')
  writeFileSync(pwFile, 'made-by-bootstrap', { mode: 0o644 })
  const again = xoa(['plan', '--spec', EXAMPLE, '--root', root, '--json'])
  assert.ok(!again.stdout.includes('made-by-bootstrap'))
  const line = xoa(['plan', '--spec', EXAMPLE, '--root', root]).stdout
  assert.match(
    line,
    /^= secret \/var\/lib\/xo\/secrets\/admin-password \(.*root:root 0644, bootstrap makes it root:root 0600\)$/m,
  )
  assert.equal(xoa(['apply', '--spec', EXAMPLE, '--root', root, '--yes']).status, 0)
  assert.equal(statSync(pwFile).mode & 0o7777, 0o644)
  assert.equal(readFileSync(pwFile, 'utf8'), 'made-by-bootstrap')
})

test('drift in an installed file is shown and repaired; a conflicting path stops apply before any change', (t) => {
  const root = makeTargetRoot(tempDir(t))
  applyJson(root)
  const redisConf = join(root, 'etc/xoa/redis-xo.conf')
  writeFileSync(redisConf, `${readFileSync(redisConf, 'utf8')}port 6379\n`)
  chmodSync(redisConf, 0o666)
  assert.deepEqual(changedLines(xoa(['plan', '--spec', EXAMPLE, '--root', root]).stdout), [
    '~ file /etc/xoa/redis-xo.conf (content +0 −1 lines, mode 0666 → 0644)',
  ])
  assert.equal(applyJson(root).changes, 1)
  assert.doesNotMatch(readFileSync(redisConf, 'utf8'), /port 6379/)

  // A file where xoa wants a directory: nothing of the run is done, the file is left alone.
  const fresh = makeTargetRoot(mkdtempSync(join(tmpdir(), 'xoa-conflict-')))
  t.after(() => rmSync(fresh, { recursive: true, force: true }))
  writeFileSync(join(makeTargetRoot(fresh), 'etc', 'xoa'), 'not a directory\n')
  const r = xoa(['apply', '--spec', EXAMPLE, '--root', fresh, '--yes'])
  assert.equal(r.status, 1)
  assert.match(r.stderr, /dir \/etc\/xoa: exists and is a file, not a directory/)
  assert.equal(readFileSync(join(fresh, 'etc', 'xoa'), 'utf8'), 'not a directory\n')
  assert.deepEqual(readdirSync(fresh).sort(), ['etc'])
  assert.doesNotMatch(readFileSync(join(fresh, 'etc', 'passwd'), 'utf8'), /^xo:/m)
})
