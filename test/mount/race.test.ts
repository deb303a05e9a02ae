// Issue 10 #1: the mount-point race, performed. mount.nfs resolves its mount point to a path, talks to the
// (attacker's) server, then calls mount(2) on that path string; a slow fake rpcbind holds it there for
// seconds while the service account (nobody) keeps trying to swap <mountsDir>/r1 for a symlink.
// This kernel has no nfs, so mount(2) fails — and how it fails says where the kernel looked: the attacker's
// symlink points nowhere, so following it gives ENOENT, while the real directory gets as far as the missing
// file system type, ENODEV. Every round must end in ENODEV on the root-owned directory the broker made.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { lstatSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { handle } from '../../src/mount/daemon.ts'
import { fakeRpcbind } from './fake-rpcbind.ts'
import { asService, mountCalls, rootLayout, SVC, straced } from './real-broker.ts'

const DANGLING = '/nonexistent-xoa-victim/cron.d'

/** The attacker, as the service account: after "go", swap r1 for a symlink as often as it can until "stop". */
const ATTACKER = `
const fs = require('node:fs'); const [dir] = process.argv.slice(1)
let on = false, tries = 0, wins = 0, errors = {}
const note = (e) => { errors[e.code] = (errors[e.code] || 0) + 1 }
function attempt() {
  if (!on) return
  tries++
  try { fs.renameSync(dir + '/r1', dir + '/r1.' + tries); try { fs.symlinkSync(${JSON.stringify(DANGLING)}, dir + '/r1'); wins++ } catch (e) { note(e) } }
  catch (e) { note(e); try { fs.rmdirSync(dir + '/r1') ; fs.symlinkSync(${JSON.stringify(DANGLING)}, dir + '/r1'); wins++ } catch (e2) { note(e2) } }
  setTimeout(attempt, 2)
}
process.stdin.setEncoding('utf8')
process.stdin.on('data', (d) => {
  for (const l of d.split('\\n')) {
    if (l === 'go') { on = true; attempt() }
    if (l === 'stop') { on = false; console.log(JSON.stringify({ tries, wins, errors })); process.exit(0) }
  }
})
`

function attacker(dir: string) {
  const p = spawn(process.execPath, ['-e', ATTACKER, dir], {
    uid: SVC,
    gid: SVC,
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  let out = ''
  p.stdout.on('data', (c: Buffer) => (out += c))
  return {
    go: () => p.stdin.write('go\n'),
    stop: () =>
      new Promise<{ tries: number; wins: number; errors: Record<string, number> }>((res) => {
        p.on('exit', () => res(JSON.parse(out)))
        p.stdin.write('stop\n')
      }),
  }
}

/** A loopback address of its own, so port 111 is free whatever else runs here. */
const host = `127.42.${process.pid % 250}.${1 + Math.floor(Math.random() * 250)}`

function expectRootMountPoint(mountsDir: string) {
  const st = lstatSync(join(mountsDir, 'r1'))
  assert.ok(st.isDirectory(), 'r1 is still a directory')
  assert.equal(st.uid, 0, 'r1 is the root-owned directory the broker made')
}

describe('mount-point race (issue 10 #1)', () => {
  it('NFS: a slow rpcbind and a swapping attacker never move mount(2) off the root-owned mount point', async (t) => {
    const { mountsDir, ctx, base } = rootLayout(t, 'xoa-race-')
    const rpc = await fakeRpcbind(host, 111, 300)
    t.after(() => rpc.close())
    const rounds = 4
    for (let round = 0; round < rounds; round++) {
      assert.equal(
        asService('mkdir', ['-p', join(mountsDir, 'r1')]).status,
        0,
        'the service makes its mount point',
      )
      const a = attacker(mountsDir)
      // The attacker starts as soon as mount.nfs talks to the server: past every check the broker makes.
      rpc.events.once('call', () => a.go())
      const out = join(base, `strace-nfs-${round}`)
      const request = {
        argv: [
          'mount',
          '-o',
          'vers=3,nolock,proto=tcp,mountproto=tcp,retry=0',
          '-t',
          'nfs',
          `${host}:/export`,
          join(mountsDir, 'r1'),
        ],
        env: {},
      }
      const reply = await handle(JSON.stringify(request), {
        ctx,
        socketPath: '',
        gid: SVC,
        executor: straced(out),
        log: () => {},
      })
      const seen = await a.stop()
      assert.equal(reply.refused, undefined, reply.stderr)
      const calls = mountCalls(out)
      assert.equal(calls.length, 1, `one mount(2) call: ${JSON.stringify(calls)} ${reply.stderr}`)
      const [call] = calls
      assert.equal(call!.target, join(mountsDir, 'r1'))
      assert.match(call!.result, /ENODEV/, `the kernel followed the attacker's symlink: ${call!.result}`)
      assert.ok(seen.tries > 20, `the attacker tried during the window (${seen.tries} tries)`)
      assert.equal(seen.wins, 0, `a swap succeeded: ${JSON.stringify(seen)}`)
      expectRootMountPoint(mountsDir)
    }
    assert.deepEqual(
      readdirSync(mountsDir).filter((n) => n !== 'r1'),
      [],
      'nothing left beside the mount point (no temporary directory, no moved r1)',
    )
  })

  it('CIFS: the same attack during mount.cifs leaves mount(2) on the root-owned mount point', async (t) => {
    const { mountsDir, ctx, base } = rootLayout(t, 'xoa-race-')
    let refused = 0
    for (let round = 0; round < 10; round++) {
      assert.equal(asService('mkdir', ['-p', join(mountsDir, 'r1')]).status, 0)
      const a = attacker(mountsDir)
      a.go()
      await new Promise((r) => setTimeout(r, 20))
      const out = join(base, `strace-cifs-${round}`)
      const request = {
        argv: [
          'mount',
          '-o',
          'domain=WORKGROUP',
          '-t',
          'cifs',
          '//127.0.0.1\\share/xo',
          join(mountsDir, 'r1'),
        ],
        env: { USER: 'bob', PASSWD: 'secret' },
      }
      const reply = await handle(JSON.stringify(request), {
        ctx,
        socketPath: '',
        gid: SVC,
        executor: straced(out, 'mount,chdir'),
        log: () => {},
      })
      const seen = await a.stop()
      const calls = mountCalls(out)
      if (reply.refused !== undefined) {
        // The attacker swapped r1 (still its own) before the broker took it over: refused, nothing mounted.
        assert.match(reply.refused, /is not a directory/, reply.stderr)
        assert.deepEqual(calls, [], 'a refused request reaches no mount(2)')
        refused++
        for (const n of readdirSync(mountsDir)) rmSync(join(mountsDir, n), { recursive: true, force: true })
        continue
      }
      assert.equal(calls.length, 1, JSON.stringify(calls))
      assert.match(calls[0]!.result, /ENODEV/)
      assert.equal(seen.wins, 0, JSON.stringify(seen))
      expectRootMountPoint(mountsDir)
    }
    assert.ok(
      refused < 10,
      'no round got past the checks to mount.cifs: the attack during the mount was never tried',
    )
  })
})
