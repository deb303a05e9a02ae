// The sudoers drop-ins pass the real visudo, and the seed-compatible mount rules grant exact commands only.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { DEBIAN, DEBIAN_PATH } from '../../src/platform/debian.ts'
import { renderAdminSudoers, renderMountSudoers, sudoMountCommands } from '../../src/render/sudoers.ts'
import { DEFAULT_RENDER_ENV, type RenderedFile } from '../../src/render/types.ts'
import { tempDir } from '../helpers.ts'
import { spec } from './cases.ts'

function visudo(t: Parameters<typeof tempDir>[0], f: RenderedFile) {
  const file = join(tempDir(t, 'xoa-sudoers-'), 'drop-in')
  writeFileSync(file, f.content, { mode: f.mode })
  return spawnSync('visudo', ['-cf', file], { encoding: 'utf8' })
}

const SUDO_MOUNT_COMMANDS = sudoMountCommands(DEBIAN)
const mountSudoers = (s: Parameters<typeof renderMountSudoers>[0]) =>
  renderMountSudoers(s, DEFAULT_RENDER_ENV)
const rules = (content: string) => content.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'))

test('xo-mount: rendered only in sudo mode, 0440 root:root, passes visudo -cf', (t) => {
  assert.deepEqual(mountSudoers(spec()), [], 'not in the default broker mode')
  assert.deepEqual(mountSudoers(spec({ mounts: { mode: 'none' } })), [])
  const [f] = mountSudoers(spec({ mounts: { mode: 'sudo' } }))
  assert.ok(f)
  assert.equal(f.path, '/etc/sudoers.d/xo-mount')
  assert.deepEqual([f.mode, f.owner, f.group, f.validate], [0o440, 'root', 'root', 'visudo'])
  const r = visudo(t, f)
  assert.equal(r.status, 0, r.stdout + r.stderr)
})

test('xo-mount: no wildcard anywhere and no ALL in what it grants', () => {
  const [f] = mountSudoers(spec({ mounts: { mode: 'sudo' }, service: { user: 'svc', group: 'svc' } }))
  assert.ok(f)
  assert.ok(!f.content.includes('*'), 'no * anywhere, comments included')
  const lines = rules(f.content)
  assert.deepEqual(lines, [
    'Defaults:svc env_keep += "USER PASSWD"',
    `Defaults:svc secure_path = "${DEBIAN_PATH.join(':')}"`,
    `Cmnd_Alias XO_MOUNT = ${SUDO_MOUNT_COMMANDS.join(', ')}`,
    'svc ALL=(root) NOPASSWD: XO_MOUNT',
  ])
  // The only ALL is the host field ("on this machine"); the run-as user and the commands are exact.
  for (const l of lines) assert.ok(!/\bALL\b/.test(l.replace(/^svc ALL=/, 'svc HOST=')), l)
  assert.doesNotMatch(f.content, /!|SETENV|\bsudoedit\b/)
})

test('xo-mount: every command is an absolute path that exists on this Debian', () => {
  for (const c of SUDO_MOUNT_COMMANDS) {
    assert.match(c, /^\/usr\/s?bin\/[a-z0-9.]+$/)
  }
  // mount.nfs / mount.cifs come from nfs-common / cifs-utils, installed on a host by `xoa apply`.
  for (const c of [
    '/usr/bin/mount',
    '/usr/bin/umount',
    '/usr/bin/findmnt',
    '/usr/bin/vhdimount',
    '/usr/bin/vhdiinfo',
  ])
    assert.ok(existsSync(c), c)
})

test('a sudo rule visudo rejects is caught (the validator is real)', (t) => {
  const r = visudo(t, {
    path: '/x',
    content: 'xo ALL=(root) NOPASSWD: mount\n',
    mode: 0o440,
    owner: 'root',
    group: 'root',
  })
  assert.notEqual(r.status, 0, 'a relative command must be refused')
})

test('xoa-admin: full NOPASSWD sudo for the key-only admin, only when admin.enable', (t) => {
  const [f] = renderAdminSudoers(spec({ admin: { user: 'ops' } }))
  assert.ok(f)
  assert.equal(f.path, '/etc/sudoers.d/xoa-admin')
  assert.deepEqual(rules(f.content), ['ops ALL=(ALL:ALL) NOPASSWD: ALL'])
  assert.equal(f.mode, 0o440)
  const r = visudo(t, f)
  assert.equal(r.status, 0, r.stdout + r.stderr)
  assert.deepEqual(renderAdminSudoers(spec({ admin: { enable: false } })), [])
})
