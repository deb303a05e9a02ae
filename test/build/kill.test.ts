// kill -9 in the middle of a build: the lock refuses a second build meanwhile, and the next build cleans up.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, readdirSync, readlinkSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { newRevision } from '../fixtures/monorepo.ts'
import { XOA_BIN, xoa } from '../helpers.ts'
import { fixtureSetup, runtimeEnv } from './helpers.ts'

test('kill -9 during a build: current untouched, second build refused meanwhile, next build removes the debris', async (t) => {
  const f = fixtureSetup(t)
  assert.equal(xoa(['build', '--spec', f.spec], { env: runtimeEnv }).status, 0)
  const good = readlinkSync(join(f.state, 'current'))
  // The build runs as the service account (nobody) when we are root: give it a place it may write to.
  const markers = join(f.dir, 'markers')
  mkdirSync(markers, { mode: 0o777 })
  chmodSync(markers, 0o777)
  const marker = join(markers, 'hanging')
  const hang = newRevision(f.src, { hangMarker: marker })

  // Its own process group, so the kill takes the whole build tree like a power cut or a cgroup kill would.
  const child = spawn(process.execPath, [XOA_BIN, 'build', '--spec', f.spec, '--rev', hang], {
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, ...runtimeEnv },
  })
  t.after(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL')
    } catch {}
  })
  for (let i = 0; i < 600 && !existsSync(marker); i++) await sleep(200)
  assert.ok(existsSync(marker), 'the build reached its hanging step')

  const refused = xoa(['build', '--spec', f.spec, '--rev', hang], { env: runtimeEnv })
  assert.equal(refused.status, 1)
  assert.match(refused.stderr, new RegExp(`another build or switch is running \\(pid ${child.pid}\\)`))

  process.kill(-child.pid!, 'SIGKILL')
  await new Promise((r) => child.once('exit', r))
  const debris = readdirSync(join(f.state, 'releases')).filter((n) => n.startsWith('.tmp-'))
  assert.equal(debris.length, 1, 'the killed build left its temp dir')
  assert.equal(readlinkSync(join(f.state, 'current')), good)

  const fixed = newRevision(f.src, { stamp: 'fixed' })
  const r = xoa(['build', '--spec', f.spec, '--rev', fixed], { env: runtimeEnv })
  assert.equal(r.status, 0, r.stderr)
  assert.deepEqual(
    readdirSync(join(f.state, 'releases')).filter((n) => n.startsWith('.')),
    [],
    'temp dir and lock are gone',
  )
  assert.match(readlinkSync(join(f.state, 'current')), new RegExp(fixed.slice(0, 10)))
})
