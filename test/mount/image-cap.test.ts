// Issue 10 #16: each vhdimount is a root FUSE server; 20 parallel requests used to leave 20 of them. With
// mounts.maxImageMounts = 3, ten parallel requests through the broker leave exactly three servers and three
// mounts; the others are refused with the reason, and unmounting one makes room for the next.
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { chownSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { handle } from '../../src/mount/daemon.ts'
import { imageMounts } from '../../src/mount/image-cap.ts'
import { asService, rootLayout, SVC } from './real-broker.ts'

const vhdimounts = () =>
  spawnSync('pgrep', ['-x', 'vhdimount'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean)

describe('a cap on vhdimount servers (issue 10 #16)', () => {
  it('ten parallel requests, maxImageMounts = 3: three servers, seven refusals; umount makes room', async (t) => {
    const { mountsDir, dataDir, ctx: base } = rootLayout(t, 'xoa-cap-')
    const ctx = { ...base, maxImageMounts: 3 }
    const image = join(dataDir, 'a.vhd')
    execFileSync('qemu-img', ['create', '-q', '-f', 'vpc', image, '8M'])
    chownSync(image, SVC, SVC)
    const before = new Set(vhdimounts())
    t.after(() => {
      for (const p of vhdimounts().filter((p) => !before.has(p))) spawnSync('kill', ['-KILL', p])
    })
    const request = (argv: string[]) =>
      handle(JSON.stringify({ argv, env: {} }), { ctx, socketPath: '', gid: SVC, log: () => {} })
    const targets = Array.from({ length: 10 }, (_, i) => join(mountsDir, `v${i}`))
    for (const d of targets) assert.equal(asService('mkdir', [d]).status, 0)

    const replies = await Promise.all(targets.map((d) => request(['vhdimount', image, d])))
    const ok = replies.filter((r) => r.code === 0 && !r.refused)
    const refused = replies.filter((r) => r.refused)
    assert.equal(ok.length, 3, JSON.stringify(replies.map((r) => r.refused ?? r.code)))
    assert.equal(refused.length, 7)
    for (const r of refused) assert.match(r.refused!, /at most 3 at a time \(mounts\.maxImageMounts\)/)
    assert.equal(vhdimounts().filter((p) => !before.has(p)).length, 3, 'three FUSE servers run')
    assert.equal(imageMounts(readFileSync('/proc/self/mountinfo', 'utf8'), mountsDir), 3)

    const mountedIdx = replies.findIndex((r) => r.code === 0 && !r.refused)
    const u = await request(['umount', targets[mountedIdx]!])
    assert.equal(u.code, 0, u.stderr)
    const freeIdx = replies.findIndex((r) => r.refused)
    const again = await request(['vhdimount', image, targets[freeIdx]!])
    assert.equal(again.code, 0, again.refused ?? again.stderr)
    for (const d of targets) spawnSync('umount', [d])
  })
})
