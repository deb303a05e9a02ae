// Real runs as an unprivileged service account (nobody:nogroup) through the rendered `sudo` shim and the
// real broker daemon (`xoa broker serve`): vhdimount of VHD and VHDX images, read, then unmounted; NFS up to
// the real mount(8); refusals; the broker down; systemd socket activation.
import assert from 'node:assert/strict'
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { mountPoints } from '../../src/mount/pin.ts'
import { DEBIAN } from '../../src/platform/debian.ts'
import { renderSudoShim } from '../../src/render/broker.ts'
import { validateSpec } from '../../src/spec/load.ts'
import { tempDir, XOA_BIN } from '../helpers.ts'

const NOBODY = 65534
const mounted = () => mountPoints(readFileSync('/proc/self/mountinfo', 'utf8'))

async function waitFor(path: string) {
  for (let i = 0; i < 200 && !existsSync(path); i++) await sleep(50)
  assert.ok(existsSync(path), `${path} did not appear`)
}

describe('the sudo shim and the broker, for real, as nobody', () => {
  const cleanups: (() => void)[] = []
  const base = tempDir({ after: (fn) => cleanups.push(fn) }, 'xoa-shim-')
  const mounts = join(base, 'mounts')
  const data = join(base, 'data')
  const bin = join(base, 'xoa.mjs')
  const specFile = join(base, 'xoa.json')
  const socket = join(base, 'run', 'mountd.sock')
  const specDoc = {
    xo: { mountsDir: mounts, dataDir: data, tempDir: join(base, 'tmp'), stateDir: join(base, 'state') },
    service: { user: 'nobody', group: 'nogroup' },
    mounts: { mode: 'broker', brokerSocket: socket },
  }
  const spec = validateSpec(specDoc)
  const shim = renderSudoShim(spec, {
    xoaCommand: [process.execPath, bin],
    specPath: specFile,
    platform: DEBIAN,
  })
  let daemon: ChildProcess
  let daemonLog = ''

  /** What xo-server does: execa('sudo', argv) with the shim first on PATH, as the service account. */
  const sudo = (argv: string[], env: Record<string, string> = {}) =>
    spawnSync('sudo', argv, {
      uid: NOBODY,
      gid: NOBODY,
      env: { PATH: `${join(base, 'state', 'bin')}:/usr/bin:/bin`, USER: 'nobody', LANG: 'C', ...env },
      encoding: 'utf8',
      timeout: 60_000,
    })
  const asNobody = (cmd: string, args: string[]) =>
    spawnSync(cmd, args, { uid: NOBODY, gid: NOBODY, encoding: 'utf8' })

  before(async () => {
    chmodSync(base, 0o755)
    // A copy of the bundle the service account can surely read, wherever the checkout lives.
    copyFileSync(XOA_BIN, bin)
    chmodSync(bin, 0o755)
    writeFileSync(specFile, JSON.stringify(specDoc))
    // As `xoa apply` makes it: root's, sticky, writable by the service group.
    mkdirSync(mounts)
    chownSync(mounts, 0, NOBODY)
    chmodSync(mounts, 0o1770)
    mkdirSync(data)
    mkdirSync(join(base, 'state', 'bin'), { recursive: true })
    writeFileSync(shim.path, shim.content, { mode: shim.mode })
    for (const [file, format] of [
      ['a.vhd', 'vpc'],
      ['b.vhdx', 'vhdx'],
    ])
      assert.equal(spawnSync('qemu-img', ['create', '-q', '-f', format!, join(data, file!), '8M']).status, 0)
    daemon = spawn(process.execPath, [bin, 'broker', 'serve', '--spec', specFile], {
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    daemon.stderr!.on('data', (c) => {
      daemonLog += c
    })
    await waitFor(socket)
  })

  after(() => {
    daemon?.kill('SIGTERM')
    for (const mp of mounted().filter((p) => p.startsWith(base))) spawnSync('umount', ['-l', mp])
    for (const fn of cleanups) fn()
  })

  for (const [image, dir] of [
    ['a.vhd', 'v1'],
    ['b.vhdx', 'v2'],
  ] as const) {
    it(`vhdimount ${image} into mountsDir, read vhdi1, findmnt, umount`, () => {
      const target = join(mounts, dir)
      assert.equal(asNobody('mkdir', [target]).status, 0)
      const m = sudo(['vhdimount', join(data, image), target])
      assert.equal(m.status, 0, `${m.stderr}\n${daemonLog}`)
      assert.ok(mounted().includes(target))
      assert.match(asNobody('ls', [target]).stdout, /^vhdi1$/m)
      const read = asNobody('dd', [`if=${join(target, 'vhdi1')}`, 'of=/dev/null', 'bs=4096', 'count=16'])
      assert.equal(read.status, 0, read.stderr)
      assert.match(read.stderr, /^16\+0 records in/m)
      const f = sudo(['findmnt', target])
      assert.equal(f.status, 0, f.stderr)
      assert.match(f.stdout, /fuse/)
      const u = sudo(['umount', target])
      assert.equal(u.status, 0, u.stderr)
      assert.ok(!mounted().includes(target))
    })
  }

  it('vhdiinfo of a VHDX under dataDir', () => {
    const r = sudo(['vhdiinfo', join(data, 'b.vhdx')])
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout, /VHDX/)
  })

  it("NFS, as _mount.js does it, reaches the real mount(8) (which fails here: no nfs); then findmnt says 'not mounted'", async () => {
    const target = join(mounts, 'n1')
    asNobody('mkdir', [target])
    const m = sudo([
      'mount',
      '-o',
      'retry=0,soft,timeo=10,retrans=1',
      '-t',
      'nfs',
      '127.0.0.1:/export',
      target,
    ])
    assert.notEqual(m.status, 0)
    assert.doesNotMatch(m.stderr, /refused/)
    // spawnSync blocked this event loop: let the daemon's log arrive before reading it.
    for (let i = 0; i < 100 && !/allowed: "mount"/.test(daemonLog); i++) await sleep(50)
    assert.match(daemonLog, /allowed: "mount".*-> \/usr\/bin\/mount exit/)
    assert.equal(sudo(['findmnt', target]).status, 1)
  })

  it('refusals come back as exit 1 with the reason on stderr', () => {
    for (const argv of [
      ['mount', '-o', 'suid', '-t', 'nfs', '127.0.0.1:/x', join(mounts, 'v1')],
      ['umount', '/'],
      ['vhdimount', '/etc/shadow', join(mounts, 'v1')],
      ['sh', '-c', 'id'],
    ]) {
      const r = sudo(argv)
      assert.equal(r.status, 1, argv.join(' '))
      assert.match(r.stderr, /xoa-mountd: refused: /)
    }
  })

  it('forwards only USER and PASSWD: LD_PRELOAD and NODE_OPTIONS never reach the broker', async () => {
    const probe = join(mounts, 'envprobe')
    const r = sudo(['findmnt', probe], {
      LD_PRELOAD: '/nonexistent.so',
      NODE_OPTIONS: '--no-warnings',
      PASSWD: 'pw',
    })
    assert.doesNotMatch(r.stderr, /refused/)
    for (let i = 0; i < 100 && !daemonLog.includes('envprobe'); i++) await sleep(50)
    const line = daemonLog.split('\n').find((l) => l.includes('envprobe'))
    assert.match(line ?? '', /env: USER="nobody" PASSWD=\*\*\* -> /)
    assert.doesNotMatch(daemonLog, /LD_PRELOAD|NODE_OPTIONS|pw"/)
  })

  it('the rendered shim is tiny and root-owned 0755', () => {
    assert.equal(shim.mode, 0o755)
    assert.equal(shim.owner, 'root')
    assert.ok(shim.content.split('\n').length <= 6)
  })

  it('with the broker down: a clear error and exit 1', async () => {
    daemon.kill('SIGTERM')
    await new Promise((r) => daemon.once('exit', r))
    const r = sudo(['umount', join(mounts, 'v1')])
    assert.equal(r.status, 1)
    assert.match(r.stderr, /cannot reach the mount broker at .*mountd\.sock/)
    assert.match(r.stderr, /next: start the broker/)
  })

  it('serves a systemd-activated socket (LISTEN_FDS, fd 3)', async () => {
    const activated = join(base, 'activated.sock')
    const sa = spawn(
      'systemd-socket-activate',
      ['-l', activated, process.execPath, bin, 'broker', 'serve', '--spec', specFile],
      {
        stdio: 'ignore',
      },
    )
    try {
      await waitFor(activated)
      const r = spawnSync(
        process.execPath,
        [bin, 'broker', 'sudo', '--socket', activated, '--', 'findmnt', join(mounts, 'v1')],
        {
          encoding: 'utf8',
        },
      )
      // Allowed and run: findmnt's own answer (not mounted), not a refusal or a connection error.
      assert.equal(r.status, 1)
      assert.doesNotMatch(r.stderr, /refused|cannot reach/)
    } finally {
      sa.kill('SIGTERM')
    }
  })
})
