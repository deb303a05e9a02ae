// Issue 10 #8: the standalone broker creates, chowns and chmods its socket; in a directory the service account
// can write, a symlink swapped in at the socket's name turned that chown onto a root-only file. Performed here
// with a real attacker (nobody) swapping symlinks in a loop while the daemon starts, again and again.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { chmodSync, chownSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { startDaemon } from '../../src/mount/daemon.ts'
import { validateSpec } from '../../src/spec/load.ts'
import { tempDir } from '../helpers.ts'
import { CTX } from './cases.ts'

const NOBODY = 65534

describe('broker socket directory (issue 10 #8)', () => {
  it('refuses a socket directory the service can write; a planted symlink never gets chowned', async (t) => {
    const base = tempDir(t, 'xoa-sock-')
    chmodSync(base, 0o755)
    const run = join(base, 'run')
    mkdirSync(run)
    chownSync(run, NOBODY, NOBODY)
    const victim = join(base, 'victim')
    writeFileSync(victim, 'root only', { mode: 0o600 })
    const sock = join(run, 'mountd.sock')
    // The attacker watches the directory and swaps the socket for a symlink to the victim as soon as it appears.
    const watcher = `
      const fs = require('node:fs'); const [dir, victim] = process.argv.slice(1)
      fs.watch(dir, (_, name) => {
        if (name !== 'mountd.sock') return
        try { if (fs.lstatSync(dir + '/mountd.sock').isSocket()) { fs.symlinkSync(victim, dir + '/t'); fs.renameSync(dir + '/t', dir + '/mountd.sock') } } catch {}
      })
      console.log('watching')`
    const attacker = spawn(process.execPath, ['-e', watcher, run, victim], {
      uid: NOBODY,
      gid: NOBODY,
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    await new Promise((r) => attacker.stdout!.once('data', r))
    t.after(() => attacker.kill('SIGKILL'))
    const refusals: string[] = []
    for (let i = 0; i < 30; i++) {
      rmSync(sock, { force: true })
      try {
        const server = await startDaemon({ ctx: CTX, socketPath: sock, gid: NOBODY, env: {}, log: () => {} })
        server.close()
      } catch (e) {
        refusals.push((e as Error).message)
      }
    }
    attacker.kill('SIGKILL')
    const st = statSync(victim)
    assert.deepEqual([st.uid, st.gid, st.mode & 0o7777], [0, 0, 0o600], 'the victim kept its owner and mode')
    assert.equal(refusals.length, 30)
    for (const r of refusals) assert.match(r, /mounts\.brokerSocket: .*\/run is owned by uid 65534, not root/)
  })

  it('creates missing directories root-owned beneath a checked parent, and binds there', async (t) => {
    const base = tempDir(t, 'xoa-sock-')
    chmodSync(base, 0o755)
    const sock = join(base, 'a', 'b', 'mountd.sock')
    const server = await startDaemon({ ctx: CTX, socketPath: sock, gid: NOBODY, env: {}, log: () => {} })
    t.after(() => server.close())
    for (const d of [join(base, 'a'), join(base, 'a', 'b')])
      assert.deepEqual([statSync(d).uid, statSync(d).mode & 0o777], [0, 0o755])
    const st = statSync(sock)
    assert.ok(st.isSocket())
    assert.deepEqual([st.uid, st.gid, st.mode & 0o777], [0, NOBODY, 0o660])
  })

  it('the spec refuses a socket inside a directory the service owns, naming the field', () => {
    assert.throws(
      () => validateSpec({ mounts: { brokerSocket: '/var/lib/xo/data/run/mountd.sock' } }),
      /mounts\.brokerSocket.*must not be inside xo\.dataDir/s,
    )
  })
})
