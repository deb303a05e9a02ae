// Issue 10 #2: mount.cifs splices USER into the mount options (",user=$USER"), after the forced ones. The
// broker runs the real mount(8) -> mount.cifs under strace; what mount(2) receives is split the way the kernel
// splits it, and must hold exactly the options the policy decided.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { handle } from '../../src/mount/daemon.ts'
import { XOA_BIN } from '../helpers.ts'
import { asService, kernelOptions, mountCalls, rootLayout, SVC, straced } from './real-broker.ts'

const HOSTILE_USERS = [
  'bob,uid=0,noforceuid,gid=0',
  'bob,unc=\\\\evil\\share',
  'bob,file_mode=04777',
  'bob,cruid=0,sec=krb5',
  'bob,noperm',
  'bob=x',
]

async function smbMount(t: { after(fn: () => void): void }, env: Record<string, string>) {
  const { mountsDir, ctx, base } = rootLayout(t, 'xoa-smb-')
  assert.equal(asService('mkdir', [join(mountsDir, 'r1')]).status, 0)
  const out = join(base, 'strace')
  const request = {
    argv: ['mount', '-o', 'domain=WORKGROUP', '-t', 'cifs', '//127.0.0.1\\share/xo', join(mountsDir, 'r1')],
    env,
  }
  const reply = await handle(JSON.stringify(request), {
    ctx,
    socketPath: '',
    gid: SVC,
    executor: straced(out),
    log: () => {},
  })
  return { reply, calls: mountCalls(out), out }
}

describe('SMB credentials add no mount option (issue 10 #2)', () => {
  for (const user of HOSTILE_USERS)
    it(`USER=${JSON.stringify(user)} is refused and mount(2) is never called`, async (t) => {
      const { reply, out } = await smbMount(t, { USER: user, PASSWD: 'x' })
      assert.match(
        reply.refused ?? '',
        /USER contains "[,=]": mount\.cifs would read the rest as mount options/,
      )
      assert.equal(existsSync(out), false, 'nothing was run')
    })

  it('a password full of commas and options reaches mount(2) as one pass= value; uid stays forced', async (t) => {
    const password = 'p,uid=0,noperm,,file_mode=04777,'
    const { reply, calls } = await smbMount(t, { USER: 'John Smith', PASSWD: password })
    assert.equal(reply.refused, undefined, reply.stderr)
    assert.equal(calls.length, 1, JSON.stringify(calls))
    const opts = kernelOptions(calls[0]!.data)
    assert.deepEqual(
      opts.filter((o) => !/^(ip|unc|prefixpath)=/.test(o)).sort(),
      [
        'domain=WORKGROUP',
        'forcegid',
        'forceuid',
        `gid=${SVC}`,
        `pass=${password}`,
        `uid=${SVC}`,
        'user=John Smith',
      ].sort(),
    )
    assert.deepEqual(calls[0]!.result.match(/E[A-Z]+/)?.[0], 'ENODEV')
  })

  it('xoa broker check refuses them, and allows what upstream sends', (t) => {
    const { base, mountsDir } = rootLayout(t, 'xoa-smb-check-')
    const spec = join(base, 'xoa.json')
    writeFileSync(
      spec,
      JSON.stringify({
        xo: { mountsDir, dataDir: join(base, 'data') },
        service: { user: 'nobody', group: 'nogroup' },
      }),
    )
    const check = (env: Record<string, string>) =>
      spawnSync(process.execPath, [XOA_BIN, 'broker', 'check', '--pure', '--spec', spec], {
        input: JSON.stringify({
          argv: ['mount', '-o', 'domain=WORKGROUP', '-t', 'cifs', '//nas\\share/', `${mountsDir}/r1`],
          env,
        }),
        encoding: 'utf8',
      })
    for (const user of HOSTILE_USERS) {
      const r = check({ USER: user, PASSWD: 'x' })
      assert.equal(r.status, 1, r.stdout + r.stderr)
      assert.match(r.stdout, /"allow": false/)
    }
    const ok = check({ USER: 'backup', PASSWD: 'p,a=ss' })
    assert.equal(ok.status, 0, ok.stdout + ok.stderr)
  })
})
