// The broker's rendered units pass systemd-analyze verify; `xoa broker check` answers with exit codes 0/1/2.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { describe, it } from 'node:test'
import { DEBIAN } from '../../src/platform/debian.ts'
import { brokerArtefacts } from '../../src/render/broker.ts'
import { findArtefact } from '../../src/render/index.ts'
import { validateSpec } from '../../src/spec/load.ts'
import { tempDir, XOA_BIN, xoa } from '../helpers.ts'

const env = { xoaCommand: [process.execPath, XOA_BIN], specPath: '/etc/xoa/xoa.toml', platform: DEBIAN }

describe('broker artefacts', () => {
  it('are registered and render only in broker mode', () => {
    for (const a of brokerArtefacts) assert.equal(findArtefact(a.name), a)
    const sudoMode = validateSpec({ mounts: { mode: 'sudo' } })
    assert.deepEqual(
      brokerArtefacts.flatMap((a) => a.render(sudoMode, env)),
      [],
    )
  })

  it('the socket is root:<service group> 0660 on mounts.brokerSocket; units pass systemd-analyze verify', (t) => {
    const spec = validateSpec({
      service: { user: 'nobody', group: 'nogroup' },
      mounts: { brokerSocket: '/run/x y/m.sock' },
    })
    const files = brokerArtefacts.flatMap((a) => a.render(spec, env))
    assert.deepEqual(
      files.map((f) => f.path),
      [
        '/var/lib/xo/bin/sudo',
        '/var/lib/xo/bin/mount.cifs',
        '/etc/systemd/system/xoa-mountd.socket',
        '/etc/systemd/system/xoa-mountd.service',
      ],
    )
    const socket = files[2]!.content
    assert.match(socket, /^ListenStream=\/run\/x y\/m\.sock$/m)
    assert.match(socket, /^SocketMode=0660$/m)
    assert.match(socket, /^SocketGroup=nogroup$/m)
    assert.match(files[0]!.content, /broker sudo --socket '\/run\/x y\/m\.sock' -- "\$@"$/m)
    const dir = tempDir(t)
    for (const f of files.slice(2)) writeFileSync(join(dir, basename(f.path)), f.content)
    const r = spawnSync(
      'systemd-analyze',
      [
        'verify',
        '--man=no',
        '--generators=no',
        join(dir, 'xoa-mountd.socket'),
        join(dir, 'xoa-mountd.service'),
      ],
      {
        encoding: 'utf8',
      },
    )
    assert.equal(r.status, 0, r.stderr)
    assert.equal(`${r.stdout}${r.stderr}`.trim(), '', 'systemd-analyze printed warnings')
    const sec = spawnSync(
      'systemd-analyze',
      ['security', '--offline=true', join(dir, 'xoa-mountd.service')],
      { encoding: 'utf8' },
    )
    const score = /Overall exposure level for xoa-mountd\.service: ([\d.]+)/.exec(sec.stdout)
    assert.ok(score, sec.stdout + sec.stderr)
    t.diagnostic(`xoa-mountd.service exposure ${score[1]} (root, no mount namespace possible)`)
  })
})

describe('xoa broker check', () => {
  function setup(t: { after(fn: () => void): void }) {
    const base = tempDir(t)
    const spec = join(base, 'xoa.toml')
    mkdirSync(join(base, 'mounts', 'r1'), { recursive: true })
    writeFileSync(
      spec,
      `[xo]\nmountsDir = "${base}/mounts"\ndataDir = "${base}/data"\ntempDir = "${base}/tmp"\nstateDir = "${base}/state"\n[service]\nuser = "nobody"\ngroup = "nogroup"\n`,
    )
    return { base, spec }
  }
  it('allowed: exit 0, the exec plan, the password hidden', (t) => {
    const { base, spec } = setup(t)
    const req = {
      argv: ['mount', '-o', 'domain=W', '-t', 'cifs', '//nas/share', `${base}/mounts/r1`],
      env: { USER: 'u', PASSWD: 'secret' },
    }
    const r = xoa(['broker', 'check', '--spec', spec], { input: JSON.stringify(req) })
    assert.equal(r.status, 0, r.stderr)
    const out = JSON.parse(r.stdout)
    assert.equal(out.allow, true)
    assert.equal(out.exec.env.PASSWD, '***')
    assert.ok(!r.stdout.includes('secret'))
  })
  it('refused: exit 1 with the reason (policy, and the on-disk check)', (t) => {
    const { base, spec } = setup(t)
    const refused = (req: object) => xoa(['broker', 'check', '--spec', spec], { input: JSON.stringify(req) })
    const a = refused({ argv: ['umount', '/'] })
    assert.equal(a.status, 1)
    assert.deepEqual(JSON.parse(a.stdout), {
      allow: false,
      reason: `umount: mount point / is not under ${base}/mounts`,
    })
    const b = refused({ argv: ['mount', '-o', '', '-t', 'nfs', 'h:/x', `${base}/mounts/missing`] })
    assert.equal(b.status, 1)
    assert.match(JSON.parse(b.stdout).reason, /does not exist/)
    const c = xoa(['broker', 'check', '--pure', '--spec', spec], {
      input: JSON.stringify({ argv: ['mount', '-o', '', '-t', 'nfs', 'h:/x', `${base}/mounts/missing`] }),
    })
    assert.equal(c.status, 0, 'policy-only check ignores the disk')
  })
  it('malformed input: exit 2', (t) => {
    const { spec } = setup(t)
    for (const input of ['', '{', '[]', '{"argv":"mount"}']) {
      const r = xoa(['broker', 'check', '--spec', spec], { input })
      assert.equal(r.status, 2, input)
      assert.equal(JSON.parse(r.stdout).allow, false)
    }
  })
  it('has --help on every subcommand', () => {
    for (const sub of ['serve', 'sudo', 'check']) assert.equal(xoa(['broker', sub, '--help']).status, 0)
  })
})
