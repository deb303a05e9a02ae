// `xoa up` as root in broker mode (a container): the mounts dir is laid out the way the broker demands
// (root:<service group> 01770, as `xoa apply` makes it), so a mount the service account asks for through the
// sudo shim reaches mount(8) instead of being refused. Seen on real XO: every NFS/SMB remote was refused.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmodSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { miniXoClis } from '../fixtures/mini-xo/bundle.ts'
import { createFixture } from '../fixtures/monorepo.ts'
import { freePort, tempDir } from '../helpers.ts'
import { startUp, stopUp, upSpec } from './xoa-up.ts'

const NOBODY = 65534

test('xoa up in broker mode: mountsDir is root:<group> 01770 and the broker takes the service account’s mount', {
  skip: process.getuid?.() !== 0 && 'skipped: needs root (the broker)',
}, async (t) => {
  const root = tempDir(t, 'xoa-up-broker-')
  chmodSync(root, 0o755)
  const src = join(root, 'src')
  const rev = createFixture(src, await miniXoClis())
  const ports = { http: await freePort(), https: await freePort() }
  const specFile = join(root, 'xoa.json')
  const mountsDir = join(root, 'mounts')
  writeFileSync(
    specFile,
    JSON.stringify({
      ...upSpec(root, { ports, source: { url: src, rev } }),
      mounts: { mode: 'broker', brokerSocket: join(root, 'mountd', 'mountd.sock') },
    }),
  )
  const up = startUp(specFile)
  t.after(() => up.kill())
  await up.ready

  const st = statSync(mountsDir)
  assert.deepEqual([st.uid, st.gid, (st.mode & 0o7777).toString(8)], [0, NOBODY, '1770'])

  // As xo-server does it: its own directory below mountsDir, then `sudo mount …` (the shim first on its PATH).
  const asService = (cmd: string, args: string[]) =>
    spawnSync(cmd, args, { uid: NOBODY, gid: NOBODY, encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } })
  assert.equal(asService('mkdir', [join(mountsDir, 'r1')]).status, 0)
  const shim = join(root, 'state', 'bin', 'sudo')
  const r = asService(shim, [
    'mount',
    '-o',
    'retry=0',
    '-t',
    'nfs',
    '127.0.0.1:/export/xo',
    join(mountsDir, 'r1'),
  ])
  const out = r.stdout + r.stderr
  assert.doesNotMatch(out, /refused/, out)
  // No NFS server (and here no nfs in the kernel): mount.nfs itself fails, which means the broker ran it.
  assert.notEqual(r.status, 0, out)
  assert.match(out, /mount\.nfs/, out)
  assert.equal(await stopUp(up), 0)
})
