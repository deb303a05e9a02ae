// The daemon over a real Unix socket: what reaches the exec boundary for upstream's NFS and SMB requests,
// malformed and oversized requests, the log, and the socket permission gate tried by another uid.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdirSync, readlinkSync, statSync } from 'node:fs'
import { connect, type Server } from 'node:net'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { requestBroker } from '../../src/mount/client.ts'
import { type DaemonOptions, startDaemon } from '../../src/mount/daemon.ts'
import type { Executor } from '../../src/mount/exec.ts'
import { MAX_REQUEST_BYTES } from '../../src/mount/protocol.ts'
import type { ExecPlan } from '../../src/mount/types.ts'
import { tempDir } from '../helpers.ts'
import { CTX } from './cases.ts'

const NOGROUP = 65534

interface Seen {
  plan: ExecPlan
  /** Where each pinned descriptor really points. */
  fds: Record<number, string>
}

async function broker(t: { after(fn: () => void): void }) {
  const base = tempDir(t, 'xoa-mountd-')
  chmodSync(base, 0o755)
  const mountsDir = join(base, 'mounts')
  mkdirSync(join(mountsDir, 'r1'), { recursive: true })
  const seen: Seen[] = []
  const log: string[] = []
  // Stop at the exec boundary: nfs and cifs are absent from this kernel.
  const executor: Executor = async (plan, fds) => {
    const where: Record<number, string> = {}
    for (const [n, fd] of fds) where[n] = readlinkSync(`/proc/self/fd/${fd}`)
    seen.push({ plan, fds: where })
    return { code: 0, stdout: 'done\n', stderr: '' }
  }
  const socketPath = join(base, 'run', 'mountd.sock')
  const opts: DaemonOptions = {
    ctx: { ...CTX, mountsDir, dataDir: join(base, 'data') },
    socketPath,
    gid: NOGROUP,
    executor,
    log: (l) => log.push(l),
    env: {},
  }
  const server: Server = await startDaemon(opts)
  t.after(() => server.close())
  return { socketPath, mountsDir, seen, log, target: join(mountsDir, 'r1') }
}

function rawExchange(socketPath: string, payload: string | Buffer, end = true): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(socketPath)
    const out: Buffer[] = []
    s.on('connect', () => (end ? s.end(payload) : s.write(payload)))
    s.on('data', (c: Buffer) => out.push(c))
    s.on('error', (e: NodeJS.ErrnoException) =>
      e.code === 'EPIPE' || e.code === 'ECONNRESET' ? undefined : reject(e),
    )
    s.on('close', () => resolve(Buffer.concat(out).toString('utf8')))
  })
}

describe('mount broker daemon', () => {
  it('creates its socket root:<group> 0660', async (t) => {
    const { socketPath } = await broker(t)
    const st = statSync(socketPath)
    assert.ok(st.isSocket())
    assert.equal(st.mode & 0o777, 0o660)
    assert.deepEqual([st.uid, st.gid], [0, NOGROUP])
  })

  it("hands upstream's NFS request to mount exactly, the target as the pinned directory", async (t) => {
    const { socketPath, seen, target } = await broker(t)
    const r = await requestBroker(socketPath, {
      argv: ['mount', '-o', 'port=2049,vers=3', '-t', 'nfs', '10.0.0.5:/export/xo', target],
      env: { USER: 'xo' },
    })
    assert.deepEqual(r, { code: 0, stdout: 'done\n', stderr: '' })
    assert.equal(seen.length, 1)
    assert.deepEqual(seen[0]!.plan.argv, [
      '--no-canonicalize',
      '-t',
      'nfs',
      '-o',
      'port=2049,vers=3,nosuid,nodev,noexec',
      '10.0.0.5:/export/xo',
      '/proc/self/fd/3',
    ])
    assert.deepEqual(seen[0]!.plan.env, { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' })
    assert.deepEqual(seen[0]!.fds, { 3: target })
  })

  it("hands upstream's SMB request over with the password in the environment only, and never logs it", async (t) => {
    const { socketPath, seen, log, target } = await broker(t)
    const password = 'Tr0ub4dor&3 ,suid'
    const r = await requestBroker(socketPath, {
      argv: ['mount', '-o', 'domain=WORKGROUP', '-t', 'cifs', '//192.168.1.2\\backups/', target],
      env: { USER: 'backup', PASSWD: password },
    })
    assert.equal(r.code, 0)
    const { plan } = seen[0]!
    assert.equal(plan.file, '/usr/bin/mount')
    assert.deepEqual(plan.env, {
      PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
      LANG: 'C',
      USER: 'backup',
      PASSWD: password,
    })
    assert.equal(plan.argv[4], 'domain=WORKGROUP,nosuid,nodev,noexec,uid=1000,gid=1001,forceuid,forcegid')
    assert.ok(!plan.argv.some((a) => a.includes(password)), 'password in argv')
    assert.ok(log.some((l) => l.startsWith('allowed:')))
    assert.ok(!log.some((l) => l.includes(password)), 'password in the log')
  })

  it('refuses with a reason, runs nothing, logs the refusal without the password', async (t) => {
    const { socketPath, seen, log, target } = await broker(t)
    const r = await requestBroker(socketPath, {
      argv: ['mount', '-o', 'password=hunter2', '-t', 'cifs', '//h/s', target],
      env: { PASSWD: 'hunter2' },
    })
    assert.equal(r.code, 1)
    assert.match(r.refused ?? '', /travel in USER\/PASSWD/)
    assert.match(r.stderr, /^xoa-mountd: refused: /)
    assert.equal(seen.length, 0)
    assert.ok(log.some((l) => l.startsWith('refused:')))
    assert.ok(!log.some((l) => l.includes('hunter2')), log.join('\n'))
  })

  it('refuses a target swapped for a symlink before the request (pin check in the daemon)', async (t) => {
    const { socketPath, seen, mountsDir } = await broker(t)
    spawnSync('ln', ['-s', '/etc', join(mountsDir, 'evil')])
    const r = await requestBroker(socketPath, {
      argv: ['mount', '-o', '', '-t', 'nfs', 'h:/x', join(mountsDir, 'evil')],
      env: {},
    })
    assert.match(r.refused ?? '', /is not a directory \(a symlink/)
    assert.equal(seen.length, 0)
    assert.equal(readlinkSync(join(mountsDir, 'evil')), '/etc')
  })

  const malformed: [string, string, RegExp][] = [
    ['not JSON', 'mount -o suid\n', /not JSON/],
    ['an array', '["mount"]\n', /not a JSON object/],
    ['argv of numbers', '{"argv":[1,2]}\n', /argv must be an array of strings/],
    ['argv missing', '{"env":{}}\n', /argv must be an array of strings/],
    ['env as array', '{"argv":["findmnt","/x"],"env":["PATH=/tmp"]}\n', /env must be an object/],
    ['env value a number', '{"argv":["findmnt","/x"],"env":{"USER":0}}\n', /env values must be strings/],
    ['extra field', '{"argv":["findmnt","/x"],"file":"/bin/sh"}\n', /unknown field "file"/],
    ['empty', '', /not JSON/],
    ['null', 'null\n', /not a JSON object/],
  ]
  for (const [name, payload, reason] of malformed) {
    it(`refuses a malformed request: ${name}`, async (t) => {
      const { socketPath, seen } = await broker(t)
      const r = JSON.parse(await rawExchange(socketPath, payload))
      assert.equal(r.code, 1)
      assert.match(r.refused, reason)
      assert.equal(seen.length, 0)
    })
  }

  it('refuses an oversized request', async (t) => {
    const { socketPath, seen } = await broker(t)
    const big = JSON.stringify({ argv: ['findmnt', 'x'.repeat(MAX_REQUEST_BYTES * 2)] })
    const r = JSON.parse(await rawExchange(socketPath, `${big}\n`))
    assert.match(r.refused, /request larger than 65536 bytes/)
    assert.equal(seen.length, 0)
  })

  it('gives up on a client that never finishes its request', async (t) => {
    const { socketPath, seen } = await broker(t)
    const r = JSON.parse(await rawExchange(socketPath, '{"argv": ["umount"', false))
    assert.match(r.refused, /no complete request within/)
    assert.equal(seen.length, 0)
  })

  it('a uid outside the group cannot connect (EACCES); the group can', async (t) => {
    const { socketPath } = await broker(t)
    const probe = `require('net').connect(${JSON.stringify(socketPath)}).on('connect',()=>{console.log('connected');process.exit(0)}).on('error',e=>{console.log(e.code);process.exit(0)})`
    const as = (uid: number, gid: number) =>
      spawnSync(process.execPath, ['-e', probe], { uid, gid, encoding: 'utf8' }).stdout.trim()
    // daemon:daemon (1:1) is not in nogroup.
    assert.equal(as(1, 1), 'EACCES')
    assert.equal(as(65534, NOGROUP), 'connected')
  })
})
