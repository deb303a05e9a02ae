// Issue 10 #10: a dead file system must not freeze the broker. A real vhdimount FUSE server, mounted by the
// broker, is frozen with SIGSTOP; six requests then pin an image inside it (each open blocks in the kernel).
// The umount -l that recovers must still be answered at once, the six are refused at their deadline, and the
// broker keeps serving. Before, four such pins filled libuv's pool and every later request hung.
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { chownSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { handle } from '../../src/mount/daemon.ts'
import { mountPoints, PIN_TIMEOUT_MS } from '../../src/mount/pin.ts'
import type { BrokerReply } from '../../src/mount/protocol.ts'
import { asService, rootLayout, SVC } from './real-broker.ts'

const vhdimounts = () =>
  spawnSync('pgrep', ['-x', 'vhdimount'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean)
const mounted = (path: string) => mountPoints(readFileSync('/proc/self/mountinfo', 'utf8')).includes(path)

describe('a hung FUSE mount (issue 10 #10)', () => {
  it('frozen vhdimount: pins into it time out, umount -l is answered at once, the broker keeps serving', async (t) => {
    const { mountsDir, dataDir, ctx } = rootLayout(t, 'xoa-hung-')
    const image = join(dataDir, 'a.vhd')
    execFileSync('qemu-img', ['create', '-q', '-f', 'vpc', image, '8M'])
    chownSync(image, SVC, SVC)
    const target = join(mountsDir, 'v1')
    assert.equal(asService('mkdir', [target]).status, 0)
    const request = (argv: string[]): Promise<BrokerReply> =>
      handle(JSON.stringify({ argv, env: {} }), { ctx, socketPath: '', gid: SVC, log: () => {} })

    const before = new Set(vhdimounts())
    const m = await request(['vhdimount', image, target])
    assert.equal(m.code, 0, m.stderr)
    const [pid] = vhdimounts().filter((p) => !before.has(p))
    assert.ok(pid, 'the FUSE server runs')
    t.after(() => {
      spawnSync('kill', ['-KILL', pid!])
      spawnSync('umount', ['-l', target])
    })
    assert.ok(mounted(target))
    spawnSync('kill', ['-STOP', pid!])

    const start = Date.now()
    const stuck = Array.from({ length: 6 }, () => request(['vhdiinfo', join(target, 'vhdi1')]))
    // Time for their workers to start and block in the kernel (they are refused at their deadline, below).
    await new Promise((r) => setTimeout(r, 2000))
    const u = await request(['umount', '-l', target])
    const umountMs = Date.now() - start - 2000
    assert.equal(u.code, 0, u.stderr)
    assert.ok(umountMs < 3000, `umount -l answered in ${umountMs} ms`)
    assert.equal(mounted(target), false, 'the hung mount is detached')

    const replies = await Promise.all(stuck)
    const elapsed = Date.now() - start
    for (const r of replies)
      assert.match(r.refused ?? '', new RegExp(`did not return within ${PIN_TIMEOUT_MS} ms`))
    assert.ok(elapsed < PIN_TIMEOUT_MS + 3000, `refused after ${elapsed} ms`)

    // Still serving while those six threads stay blocked in the kernel: an image elsewhere is read at once.
    const again = Date.now()
    const info = await request(['vhdiinfo', image])
    assert.equal(info.code, 0, info.stderr)
    assert.match(info.stdout, /vhdiinfo/)
    assert.ok(Date.now() - again < 3000)
  })
})
