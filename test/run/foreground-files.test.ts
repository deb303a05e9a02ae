// `xoa up` as root writes into directories the service account owns (its XDG config home): a symlink it plants
// there must not make root chown or write what the link points at.
import assert from 'node:assert/strict'
import { mkdirSync, readdirSync, renameSync, statSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { prepareForeground } from '../../src/run/foreground.ts'
import { validateSpec } from '../../src/spec/load.ts'
import { tempDir } from '../helpers.ts'
import { upSpec } from './xoa-up.ts'

const NOBODY = { uid: 65534, gid: 65534 }

test('a symlink the service account plants for its config dir is refused, not chowned or written through', async (t) => {
  const root = tempDir(t, 'xoa-up-files-')
  const spec = validateSpec(upSpec(root, { ports: { http: 8080, https: 8443 } }))
  const { configDir } = await prepareForeground(spec, NOBODY)
  assert.equal(statSync(configDir).uid, NOBODY.uid)
  // Root-only, like /etc: what the service account would like to own.
  const outside = join(tempDir(t, 'xoa-outside-'), 'etc')
  mkdirSync(outside, { mode: 0o700 })
  // The service account owns the parent (XDG_CONFIG_HOME), so it can do exactly this.
  renameSync(configDir, `${configDir}.old`)
  symlinkSync(outside, configDir)
  await assert.rejects(async () => prepareForeground(spec, NOBODY), /xo-server: is a symlink/)
  const st = statSync(outside)
  assert.deepEqual([st.uid, st.gid, st.mode & 0o7777], [0, 0, 0o700])
  assert.deepEqual(readdirSync(outside), [])
})
