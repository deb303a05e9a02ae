// The harness's pure parts: where the Debian mirror comes from, and what invalidates the cached rootfs.
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { RUNTIME_PACKAGES } from '../../src/plan/packages.ts'
import { tempDir } from '../helpers.ts'
import { debianMirror, ROOTFS_PACKAGES, rootfsKey } from './rootfs.ts'

test('the mirror is the URIs: line of the deb822 stanza for bookworm, not the security one', (t) => {
  const f = join(tempDir(t), 'debian.sources')
  writeFileSync(
    f,
    [
      'Types: deb',
      'URIs: http://security.example/debian-security',
      'Suites: bookworm-security',
      'Components: main',
      '',
      'Types: deb',
      '# a comment',
      'URIs: http://mirror.example/debian',
      'Suites: bookworm bookworm-updates',
      'Components: main',
      '',
    ].join('\n'),
  )
  assert.equal(debianMirror([f]), 'http://mirror.example/debian')
})

test('a one-line sources.list works too, options included; nothing found is undefined', (t) => {
  const dir = tempDir(t)
  const list = join(dir, 'sources.list')
  writeFileSync(
    list,
    '# deb http://old.example/debian bookworm main\ndeb [arch=amd64] http://m.example/d bookworm main\n',
  )
  assert.equal(debianMirror([join(dir, 'absent'), list]), 'http://m.example/d')
  const other = join(dir, 'other.list')
  writeFileSync(other, 'deb http://m.example/d trixie main\n')
  assert.equal(debianMirror([other]), undefined)
})

test('the cache key follows the package list, so adding a package rebuilds the rootfs', () => {
  assert.equal(rootfsKey(), rootfsKey([...ROOTFS_PACKAGES]))
  assert.notEqual(rootfsKey(), rootfsKey([...ROOTFS_PACKAGES, 'lsof']))
  assert.match(rootfsKey(), /^bookworm-[0-9a-f]{12}$/)
})

test('the rootfs is a fresh minimal Debian: nothing apply installs, no test-only tool', () => {
  assert.deepEqual(ROOTFS_PACKAGES, ['systemd', 'systemd-sysv', 'dbus'])
  for (const p of [...RUNTIME_PACKAGES, 'openssh-server', 'curl', 'procps', 'iproute2'])
    assert.ok(!ROOTFS_PACKAGES.includes(p), `${p} must come from xoa apply, not the rootfs`)
})
