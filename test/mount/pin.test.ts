// Path pinning on a real disk: symlinks, devices, hard links, mount points, and a symlink swapped in
// after the check — including a real tmpfs mount made through the pinned descriptor while it is swapped.
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import {
  chmodSync,
  chownSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { runPlan } from '../../src/mount/exec.ts'
import { mountPoints, PinRefused, pinAll } from '../../src/mount/pin.ts'
import type { Pin } from '../../src/mount/types.ts'

function layout(t: { after(fn: () => void): void }) {
  const base = mkdtempSync(join(tmpdir(), 'xoa-pin-'))
  const mounts = join(base, 'mounts')
  const data = join(base, 'data')
  const victim = join(base, 'victim')
  for (const d of [mounts, data, victim, join(mounts, 'r1')]) mkdirSync(d, { recursive: true })
  writeFileSync(join(data, 'a.vhd'), 'not really a vhd')
  t.after(() => {
    for (const mp of mountPoints(readFileSync('/proc/self/mountinfo', 'utf8')).filter((p) =>
      p.startsWith(base),
    ))
      spawnSync('umount', ['-l', mp])
    rmSync(base, { recursive: true, force: true })
  })
  return { base, mounts, data, victim }
}

async function refusal(pins: Pin[], mountsDir: string): Promise<string> {
  try {
    await (await pinAll(pins, mountsDir)).release()
  } catch (e) {
    assert.ok(e instanceof PinRefused, String(e))
    return e.message
  }
  assert.fail(`pinned: ${JSON.stringify(pins)}`)
}

const mp = (name: string): Pin => ({ kind: 'mountPoint', name, childFd: 3 })
const image = (path: string): Pin => ({ kind: 'image', path, childFd: 3 })
const mounted = (name: string): Pin => ({ kind: 'mounted', name, childFd: 3 })

describe('mount point pins', () => {
  it('pins a plain child directory; the descriptor is that directory', async (t) => {
    const { mounts } = layout(t)
    const p = await pinAll([mp('r1')], mounts)
    assert.equal(readlinkSync(`/proc/self/fd/${p.fds.get(3)}`), join(mounts, 'r1'))
    await p.release()
  })
  it('refuses a symlink, a file, a non-empty directory; makes a missing one', async (t) => {
    const { mounts, victim } = layout(t)
    symlinkSync(victim, join(mounts, 'ln'))
    writeFileSync(join(mounts, 'file'), '')
    mkdirSync(join(mounts, 'full'))
    writeFileSync(join(mounts, 'full', 'x'), '')
    assert.match(await refusal([mp('ln')], mounts), /is not a directory \(a symlink/)
    assert.equal(readlinkSync(join(mounts, 'ln')), victim, 'the symlink is left alone')
    assert.match(await refusal([mp('file')], mounts), /not a directory/)
    assert.match(await refusal([mp('full')], mounts), /is not empty/)
    await (await pinAll([mp('missing')], mounts)).release()
    assert.equal(lstatSync(join(mounts, 'missing')).uid, 0)
    assert.deepEqual(
      readdirSync(mounts).filter((n) => n.startsWith('.')),
      [],
      'no temporary left',
    )
  })
  it("replaces the service's empty mount point by a root-owned 0755 one", async (t) => {
    const { mounts } = layout(t)
    chownSync(join(mounts, 'r1'), 65534, 65534)
    const before = lstatSync(join(mounts, 'r1')).ino
    await (await pinAll([mp('r1')], mounts)).release()
    const st = lstatSync(join(mounts, 'r1'))
    assert.deepEqual([st.uid, st.mode & 0o7777], [0, 0o755])
    assert.notEqual(st.ino, before)
  })
  it('refuses a mountsDir (or a parent) the service could rename things in', async (t) => {
    const { base, mounts } = layout(t)
    chownSync(mounts, 65534, 65534)
    assert.match(await refusal([mp('r1')], mounts), /owned by uid 65534, not root.*xoa apply/)
    chownSync(mounts, 0, 0)
    chmodSync(mounts, 0o775)
    assert.match(await refusal([mp('r1')], mounts), /writable by group or others without the sticky bit/)
    chmodSync(mounts, 0o1770)
    chownSync(base, 65534, 65534)
    assert.match(await refusal([mp('r1')], mounts), new RegExp(`${base} is owned by uid 65534`))
    chownSync(base, 0, 0)
    await (await pinAll([mp('r1')], mounts)).release()
  })
  it('refuses a mountsDir reached through a symlink (itself or a parent)', async (t) => {
    const { base, mounts } = layout(t)
    symlinkSync(mounts, join(base, 'mlink'))
    symlinkSync(base, join(base, 'blink'))
    assert.match(await refusal([mp('r1')], join(base, 'mlink')), /symlink/)
    assert.match(await refusal([mp('r1')], join(base, 'blink', 'mounts')), /blink is a symlink/)
  })
  it('refuses a directory that already is a mount point (real tmpfs)', async (t) => {
    const { mounts } = layout(t)
    assert.equal(spawnSync('mount', ['-t', 'tmpfs', 'tmpfs', join(mounts, 'r1')]).status, 0)
    assert.match(await refusal([mp('r1')], mounts), /already a mount point/)
  })
  it('a symlink swapped in after the check changes nothing: the real mount lands on the checked directory', async (t) => {
    const { mounts, victim } = layout(t)
    const pinned = await pinAll([mp('r1')], mounts)
    // The attacker wins the race: r1 is moved away and replaced by a symlink to the victim directory.
    renameSync(join(mounts, 'r1'), join(mounts, 'moved'))
    symlinkSync(victim, join(mounts, 'r1'))
    const r = await runPlan(
      {
        file: '/usr/bin/mount',
        argv: ['--no-canonicalize', '-t', 'tmpfs', '-o', 'nosuid,nodev,noexec', 'tmpfs', '/proc/self/fd/3'],
        env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' },
        pins: [],
      },
      pinned.fds,
    )
    await pinned.release()
    assert.equal(r.code, 0, r.stderr)
    const points = mountPoints(readFileSync('/proc/self/mountinfo', 'utf8'))
    assert.ok(points.includes(join(mounts, 'moved')), 'mounted on the checked directory')
    assert.ok(!points.includes(victim), 'the symlink target was not mounted on')
  })
  it('under a continuous dir/symlink flipping loop, every pin is refused or the real directory', async (t) => {
    const { mounts, victim } = layout(t)
    const flipper = spawn('sh', [
      '-c',
      `while :; do mv -T "$1/r1" "$1/tmp" 2>/dev/null; ln -sfn "$2" "$1/r1"; rm -f "$1/r1"; mv -T "$1/tmp" "$1/r1" 2>/dev/null; done`,
      'sh',
      mounts,
      victim,
    ])
    t.after(() => flipper.kill('SIGKILL'))
    let pinnedCount = 0
    let refused = 0
    for (let i = 0; i < 300; i++) {
      try {
        const p = await pinAll([mp('r1')], mounts)
        const real = readlinkSync(`/proc/self/fd/${p.fds.get(3)}`)
        await p.release()
        assert.notEqual(real, victim)
        assert.ok(real.startsWith(`${mounts}/`), real)
        pinnedCount++
      } catch (e) {
        assert.ok(e instanceof PinRefused, String(e))
        refused++
      }
    }
    flipper.kill('SIGKILL')
    assert.equal(pinnedCount + refused, 300)
  })
})

describe('umount pins', () => {
  it('refuses a name that is not a mount point; holds mountsDir for one that is', async (t) => {
    const { mounts } = layout(t)
    assert.match(await refusal([mounted('r1')], mounts), /is not a mount point/)
    assert.equal(spawnSync('mount', ['-t', 'tmpfs', 'tmpfs', join(mounts, 'r1')]).status, 0)
    const p = await pinAll([mounted('r1')], mounts)
    assert.equal(readlinkSync(`/proc/self/fd/${p.fds.get(3)}`), mounts)
    await p.release()
  })
  it('decodes escaped mount points in mountinfo', () => {
    assert.deepEqual(mountPoints('41 26 0:38 / /a\\040b rw - tmpfs tmpfs rw\n'), ['/a b'])
  })
})

describe('image pins', () => {
  it('pins a regular file', async (t) => {
    const { data, mounts } = layout(t)
    const p = await pinAll([image(join(data, 'a.vhd'))], mounts)
    assert.equal(readlinkSync(`/proc/self/fd/${p.fds.get(3)}`), join(data, 'a.vhd'))
    await p.release()
  })
  it('refuses symlinks, a symlinked parent, devices, FIFOs, directories, hard links', async (t) => {
    const { base, data, mounts } = layout(t)
    symlinkSync('/etc/shadow', join(data, 'shadow.vhd'))
    mkdirSync(join(base, 'elsewhere'))
    writeFileSync(join(base, 'elsewhere', 'b.vhd'), '')
    symlinkSync(join(base, 'elsewhere'), join(data, 'dir'))
    assert.equal(spawnSync('mknod', [join(data, 'loop.vhd'), 'b', '7', '0']).status, 0)
    assert.equal(spawnSync('mknod', [join(data, 'null.vhd'), 'c', '1', '3']).status, 0)
    assert.equal(spawnSync('mkfifo', [join(data, 'fifo.vhd')]).status, 0)
    mkdirSync(join(data, 'd.vhd'))
    linkSync(join(data, 'a.vhd'), join(data, 'hard.vhd'))
    assert.match(await refusal([image(join(data, 'shadow.vhd'))], mounts), /is a symlink/)
    assert.match(await refusal([image(join(data, 'dir', 'b.vhd'))], mounts), /data\/dir is a symlink/)
    assert.match(await refusal([image(join(data, 'loop.vhd'))], mounts), /is a block device/)
    assert.match(await refusal([image(join(data, 'null.vhd'))], mounts), /is a character device/)
    assert.match(await refusal([image(join(data, 'fifo.vhd'))], mounts), /not a regular file/)
    assert.match(await refusal([image(join(data, 'd.vhd'))], mounts), /not a regular file/)
    assert.match(await refusal([image(join(data, 'hard.vhd'))], mounts), /2 hard links/)
    rmSync(join(data, 'hard.vhd'))
  })
})
