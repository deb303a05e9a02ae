// npm tarballs of real XO set setuid/setgid bits on install (fuse-shared-library-linux: a script 6775). The
// build lets them (xo-build.service has no RestrictSUIDSGID=), but a sealed release carries no such bit at all,
// and under systemd (a private mount namespace) the release store is mounted nosuid while the build runs.
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { mountFlags } from '../../src/build/setid.ts'
import { XOA_BIN } from '../helpers.ts'
import { fixtureSetup, runtimeEnv } from './helpers.ts'

function buildLog(state: string): string {
  const logs = join(state, 'logs')
  return readdirSync(logs)
    .map((f) => readFileSync(join(logs, f), 'utf8'))
    .join('\n')
}

const setidIn = (dir: string) =>
  execFileSync('find', [dir, '!', '-type', 'l', '-perm', '/6000'], { encoding: 'utf8' }).trim()

const probe = (state: string) =>
  JSON.parse(
    readFileSync(join(state, 'current', 'xo', '@xen-orchestra', 'setid-probe', 'probe.json'), 'utf8'),
  ) as { mode: string; mountOptions: string }

test('the flags a bind remount keeps are those of the topmost mount on the dir', () => {
  const info = [
    '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
    '90 22 8:1 /var/lib/xo /var/lib/xo rw,noexec,relatime shared:1 - ext4 /dev/sda1 rw',
    '91 90 8:1 /var/lib/xo/releases /var/lib/xo/releases ro,nosuid,noatime master:1 - ext4 /dev/sda1 rw',
    '92 22 8:1 /x /my\\040dir rw,nodev - ext4 /dev/sda1 rw',
  ].join('\n')
  assert.deepEqual(mountFlags(info, '/var/lib/xo/releases'), ['ro', 'noatime'])
  assert.deepEqual(mountFlags(info, '/var/lib/xo'), ['rw', 'noexec', 'relatime'])
  assert.deepEqual(mountFlags(info, '/my dir'), ['rw'])
  assert.deepEqual(mountFlags(info, '/nowhere'), [])
})

test('a dependency that chmods a script 6775 installs, and the sealed release has no setuid/setgid file', (t) => {
  const f = fixtureSetup(t)
  const r = spawnSync(process.execPath, [XOA_BIN, 'build', '--spec', f.spec], {
    env: { ...process.env, ...runtimeEnv, NO_COLOR: '1' },
    encoding: 'utf8',
  })
  assert.equal(r.status, 0, r.stdout + r.stderr)
  // The install really set the bits (so the test exercises what real XO does)…
  assert.equal(probe(f.state).mode, '6775')
  assert.match(buildLog(f.state), /cleared setuid\/setgid bits of [1-9]\d* path\(s\)/)
  // …and none is left anywhere in the release, the setgid dir (which chown does not clear) included.
  const release = join(f.state, 'current')
  assert.equal(setidIn(`${release}/`), '')
  const script = join(release, 'xo', '@xen-orchestra', 'setid-probe', 'scripts', 'init_script.sh')
  assert.equal(execFileSync('stat', ['-c', '%a', script], { encoding: 'utf8' }).trim(), '755')
})

test('in a private mount namespace (as under systemd) the release store is mounted nosuid during the build', (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root (mount)')
  const f = fixtureSetup(t)
  const r = spawnSync(
    'unshare',
    ['--mount', '--propagation', 'private', process.execPath, XOA_BIN, 'build', '--spec', f.spec],
    { env: { ...process.env, ...runtimeEnv, NO_COLOR: '1', XOA_PRIVATE_MOUNTS: '1' }, encoding: 'utf8' },
  )
  assert.equal(r.status, 0, r.stdout + r.stderr)
  assert.match(buildLog(f.state), /releases is mounted nosuid for this build/)
  // What the kernel showed the install script: its tree was on a nosuid mount.
  assert.ok(probe(f.state).mountOptions.split(',').includes('nosuid'), probe(f.state).mountOptions)
  assert.equal(setidIn(`${join(f.state, 'current')}/`), '')
  // The mount went away with the namespace: the host never sees it.
  const hostMounts = readFileSync('/proc/self/mountinfo', 'utf8')
  assert.ok(!hostMounts.includes(f.state), `a mount under ${f.state} leaked to the host`)
})
