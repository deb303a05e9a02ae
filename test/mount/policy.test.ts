// The broker policy, pure: hundreds of hostile requests refused with their reason; upstream's real
// requests accepted with exactly the argv and environment mount(8) must receive.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decide } from '../../src/mount/policy.ts'
import type { ExecPlan } from '../../src/mount/types.ts'
import { CTX, D, HOSTILE, M, T } from './cases.ts'

const FIXED = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' }

function allowed(argv: string[], env: Record<string, string> = {}): ExecPlan {
  const d = decide({ argv, env }, CTX)
  assert.ok(d.allow, `expected allowed, got: ${d.allow ? '' : d.reason}`)
  return d.exec
}

describe('hostile requests', () => {
  it('has at least 150 of them', () => assert.ok(HOSTILE.length >= 150, `${HOSTILE.length} cases`))
  for (const c of HOSTILE) {
    it(`refuses ${c.name}`, () => {
      const d = decide({ argv: c.argv, env: c.env ?? {} }, CTX)
      assert.equal(d.allow, false, `allowed: ${JSON.stringify(c.argv)}`)
      if (!d.allow) assert.match(d.reason, c.reason)
    })
  }
})

describe('what upstream XO sends', () => {
  it('NFS without port or options (-o "" from _mount.js): only the forced options', () => {
    const e = allowed(['mount', '-o', '', '-t', 'nfs', 'nas.example:/export/xo', T], { USER: 'xo' })
    assert.deepEqual(e, {
      file: '/usr/bin/mount',
      argv: [
        '--no-canonicalize',
        '-t',
        'nfs',
        '-o',
        'nosuid,nodev,noexec',
        'nas.example:/export/xo',
        '/proc/self/fd/3',
      ],
      // execa in xo-server passes its own USER; it means nothing to NFS and is not handed over.
      env: FIXED,
      pins: [{ kind: 'mountPoint', name: 'r1', childFd: 3 }],
    })
  })
  it('NFS with a port and the remote options field', () => {
    const e = allowed(['mount', '-o', 'port=2049,vers=3,soft,timeo=600', '-t', 'nfs', '10.0.0.5:/srv/nfs', T])
    assert.equal(e.argv[4], 'port=2049,vers=3,soft,timeo=600,nosuid,nodev,noexec')
    assert.equal(e.argv[5], '10.0.0.5:/srv/nfs')
  })
  it('NFS with a port and an empty options field ("port=2049,")', () => {
    assert.equal(
      allowed(['mount', '-o', 'port=2049,', '-t', 'nfs', 'h:/x', T]).argv[4],
      'port=2049,nosuid,nodev,noexec',
    )
  })
  it('nfs4 and an IPv6 server', () => {
    const e = allowed(['mount', '-o', 'vers=4.1', '-t', 'nfs4', '[fd00::1]:/export', `${M}/abc-123`])
    assert.deepEqual(e.argv.slice(1, 6), [
      '-t',
      'nfs4',
      '-o',
      'vers=4.1,nosuid,nodev,noexec',
      '[fd00::1]:/export',
    ])
  })
  it('-t before -o is accepted too', () => {
    assert.ok(decide({ argv: ['mount', '-t', 'nfs', '-o', '', 'h:/x', T], env: {} }, CTX).allow)
  })
  it('SMB: //host\\share/, domain=, USER and PASSWD in the environment only, uid/gid forced', () => {
    const password = 'p@ss,w=rd suid'
    const e = allowed(['mount', '-o', 'domain=WORKGROUP', '-t', 'cifs', '//192.168.1.2\\backups/', T], {
      USER: 'bob',
      PASSWD: password,
    })
    assert.deepEqual(e.argv, [
      '--no-canonicalize',
      '-t',
      'cifs',
      '-o',
      'domain=WORKGROUP,nosuid,nodev,noexec,uid=1000,gid=1001,forceuid,forcegid',
      '//192.168.1.2\\backups/',
      '/proc/self/fd/3',
    ])
    assert.deepEqual(e.env, { ...FIXED, USER: 'bob', PASSWD: password })
    assert.ok(!e.argv.some((a) => a.includes(password) || a.includes('bob')), 'credentials in argv')
  })
  it('SMB with a sub-folder and options', () => {
    const e = allowed([
      'mount',
      '-o',
      'domain=CORP.EXAMPLE,vers=3.0,seal,file_mode=0640,dir_mode=0750',
      '-t',
      'cifs',
      '//files.corp.example\\xo/backups/pool1',
      T,
    ])
    assert.match(e.argv[4]!, /^domain=CORP\.EXAMPLE,vers=3\.0,seal,file_mode=0640,dir_mode=0750,nosuid,/)
    assert.equal(e.argv[5], '//files.corp.example\\xo/backups/pool1')
  })
  it('forced options come last and are not repeated', () => {
    const e = allowed(['mount', '-o', 'nosuid,ro,nodev', '-t', 'nfs', 'h:/x', T])
    assert.equal(e.argv[4], 'ro,nosuid,nodev,noexec')
  })
  it('umount: mountsDir held as fd 3, the name below it', () => {
    assert.deepEqual(allowed(['umount', T]), {
      file: '/usr/bin/umount',
      argv: ['--no-canonicalize', '/proc/self/fd/3/r1'],
      env: FIXED,
      pins: [{ kind: 'mounted', name: 'r1', childFd: 3 }],
    })
  })
  it('umount -l (lazy: the way out of a hung mount)', () => {
    assert.deepEqual(allowed(['umount', '-l', T]).argv, ['--no-canonicalize', '-l', '/proc/self/fd/3/r1'])
  })
  it('findmnt: the path as is (read-only)', () => {
    assert.deepEqual(allowed(['findmnt', T]).argv, [T])
  })
  it('vhdimount of an image on a remote into a child of mountsDir', () => {
    const img = `${M}/r1/xo-vm-backups/vm/disk.vhd`
    const e = allowed(['vhdimount', img, `${M}/flr`])
    assert.deepEqual(e.argv, ['-X', 'allow_other', '/proc/self/fd/4', '/proc/self/fd/3'])
    assert.deepEqual(e.pins, [
      { kind: 'mountPoint', name: 'flr', childFd: 3 },
      { kind: 'image', path: img, childFd: 4 },
    ])
  })
  it('vhdiinfo of an image under dataDir', () => {
    const e = allowed(['vhdiinfo', `${D}/tmp/disk.vhdx`])
    assert.deepEqual([e.file, e.argv], ['/usr/bin/vhdiinfo', ['/proc/self/fd/3']])
  })
  it('PASSWD never reaches anything but mount.cifs', () => {
    for (const argv of [
      ['umount', T],
      ['findmnt', T],
      ['mount', '-o', '', '-t', 'nfs', 'h:/x', T],
    ])
      assert.equal(allowed(argv, { USER: 'x', PASSWD: 'secret' }).env.PASSWD, undefined)
  })
})

describe('random option soup never yields a dangerous mount', () => {
  const tokens = [
    'suid',
    'exec',
    'dev',
    'vers=3',
    'soft',
    'credentials=/etc/shadow',
    'helper=x',
    'bind',
    'ro',
  ].concat(['uid=0', 'nosuid', '', 'port=1', 'domain=W', 'X-mount.mkdir', 'user=root', 'remount', 'nodev'])
  const bad = /(^|,)(suid|exec|dev|credentials=.*|helper=.*|bind|uid=0|X-mount\..*|user=.*|remount)(,|$)/
  it('2000 random option strings: refused, or only allowlisted options with the forced ones last', () => {
    let seed = 42
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed % n
    }
    for (let i = 0; i < 2000; i++) {
      const opts = Array.from({ length: 1 + rnd(5) }, () => tokens[rnd(tokens.length)]).join(',')
      const type = rnd(2) ? 'nfs' : 'cifs'
      const dev = type === 'nfs' ? 'h:/x' : '//h/s'
      const d = decide({ argv: ['mount', '-o', opts, '-t', type, dev, T], env: {} }, CTX)
      if (!d.allow) continue
      const final = d.exec.argv[4]!
      assert.doesNotMatch(final.replace(/uid=1000|gid=1001/g, ''), bad, opts)
      assert.ok(final.includes('nosuid,nodev,noexec'), final)
    }
  })
})
