// xo-server offers SMB remotes only when `mount.cifs -V` succeeds (@xen-orchestra/fs, src/index.js). Under its
// no_new_privs Debian's setuid mount.cifs refuses to run, so the broker's shim dir answers the probe. Real runs
// of the rendered probe as nobody with no_new_privs and no capabilities, as xo-server runs.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmodSync, existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { DEBIAN } from '../../src/platform/debian.ts'
import { renderCifsProbe } from '../../src/render/broker.ts'
import { validateSpec } from '../../src/spec/load.ts'
import { tempDir } from '../helpers.ts'

const asXoServer = (args: string[]) =>
  spawnSync(
    'setpriv',
    [
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
      '--inh-caps=-all',
      '--bounding-set=-all',
      '--no-new-privs',
      '--',
      ...args,
    ],
    { encoding: 'utf8' },
  )

const root = process.getuid?.() === 0 ? undefined : 'needs root (setpriv to nobody)'

test('the probe answers -V while the real helper is installed, and nothing else', { skip: root }, (t) => {
  const dir = tempDir(t)
  chmodSync(dir, 0o755)
  const helper = join(dir, 'mount.cifs.real')
  writeFileSync(helper, '#!/bin/sh\nexit 0\n', { mode: 0o755 })
  const spec = validateSpec({ xo: { stateDir: join(dir, 'state') } })
  const probe = renderCifsProbe(spec, {
    xoaCommand: ['/x'],
    specPath: '/s',
    platform: { ...DEBIAN, tools: { ...DEBIAN.tools, 'mount.cifs': helper } },
  })
  assert.equal(probe.path, join(dir, 'state', 'bin', 'mount.cifs'))
  const file = join(dir, 'probe')
  writeFileSync(file, probe.content, { mode: probe.mode })
  assert.equal(asXoServer([file, '-V']).status, 0)
  const mount = asXoServer([file, '-o', 'user=x', '//h/s', '/mnt'])
  assert.equal(mount.status, 1)
  assert.match(mount.stderr, /go through the xoa mount broker/)
  chmodSync(helper, 0o644) // the helper uninstalled (not executable): no SMB offered
  assert.equal(asXoServer([file, '-V']).status, 1)
})

test("Debian's own mount.cifs is what the probe stands in for: it fails -V under no_new_privs", {
  skip: root ?? (existsSync(DEBIAN.tools['mount.cifs']!) ? undefined : 'cifs-utils not installed'),
}, () => {
  const r = asXoServer([DEBIAN.tools['mount.cifs']!, '-V'])
  assert.notEqual(r.status, 0, 'mount.cifs -V ran under no_new_privs: the probe would not be needed')
})
