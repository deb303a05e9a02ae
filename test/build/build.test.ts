// `xoa build` end to end on the generated fixture monorepo, with real git, npm-provisioned Node and yarn.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { DEBIAN } from '../../src/platform/debian.ts'
import { newRevision } from '../fixtures/monorepo.ts'
import { xoa } from '../helpers.ts'
import { fixtureSetup, runtimeEnv } from './helpers.ts'

const env = runtimeEnv
const linkOf = (state: string, name: string) => readlinkSync(join(state, name)).replace(/^releases\//, '')

test('first build makes a complete current release; an unchanged key then runs no git and no npm', (t) => {
  const f = fixtureSetup(t)
  const r = xoa(['build', '--spec', f.spec], { env })
  assert.equal(r.status, 0, r.stderr + r.stdout)
  assert.match(r.stdout, /^log: .*build-.*\.log$/m)
  assert.match(r.stdout, /^install done \(\d+\.\ds\)$/m)
  const id = linkOf(f.state, 'current')
  assert.match(r.stdout, new RegExp(`built ${id} .*now current`))
  const rel = join(f.state, 'releases', id)
  const m = JSON.parse(readFileSync(join(rel, 'manifest.json'), 'utf8'))
  assert.equal(m.rev, f.rev)
  assert.equal(m.version, '1.0.0')
  assert.ok(id.startsWith(`1.0.0-${f.rev.slice(0, 10)}-${m.buildKey.slice(0, 12)}`))
  assert.match(m.node, /^22\./)
  assert.ok(m.sizeBytes > 0 && m.durationMs > 0)
  // The layout other parts run: <current>/node/bin/node <current>/xo/packages/xo-server/dist/cli.mjs.
  assert.ok(existsSync(join(f.state, 'current', 'node', 'bin', 'node')))
  assert.ok(existsSync(join(rel, 'xo', '.git')))
  assert.equal(
    readFileSync(join(rel, 'xo/packages/xo-server/dist/rev.txt'), 'utf8').trim(),
    f.rev.slice(0, 7),
  )
  assert.ok(existsSync(join(rel, 'xo/packages/xo-server/dist/recover-account-cli.mjs')))
  assert.ok(!existsSync(join(rel, 'xo/docs/dist')), 'docs are off by default')
  assert.ok(!existsSync(join(f.state, 'previous')))

  // No-op: the source is gone and git/npm on PATH record any call; the build must still say up to date.
  renameSync(f.src, `${f.src}.gone`)
  const shims = join(f.dir, 'shims')
  const calls = join(f.dir, 'calls')
  mkdirSync(shims)
  for (const tool of ['git', 'npm', 'yarn']) {
    writeFileSync(join(shims, tool), `#!/bin/sh\necho ${tool} "$@" >> ${calls}\nexit 1\n`)
    chmodSync(join(shims, tool), 0o755)
  }
  // xoa runs git where the platform says: a platform file naming the recording shim.
  const platform = join(f.dir, 'platform.json')
  writeFileSync(
    platform,
    JSON.stringify({ ...DEBIAN, name: 'shims', tools: { ...DEBIAN.tools, git: join(shims, 'git') } }),
  )
  const again = xoa(['build', '--spec', f.spec], {
    env: { ...env, PATH: `${shims}:${process.env.PATH}`, XOA_PLATFORM: platform },
  })
  assert.equal(again.status, 0, again.stderr)
  assert.equal(again.stdout.trim(), `up to date: ${id}`)
  assert.ok(
    !existsSync(calls),
    `no tool may run on a no-op build, ran: ${existsSync(calls) && readFileSync(calls, 'utf8')}`,
  )

  // --json events: one object per line.
  const j = xoa(['build', '--spec', f.spec, '--json'], { env })
  assert.equal(j.status, 0, j.stderr)
  const events = j.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
  assert.deepEqual(events, [{ event: 'up-to-date', release: id, switched: false }])

  // Without the cached facts about the commit, the mirror answers (no fetch: the source is gone) and the
  // existing release is found again.
  rmSync(join(f.state, 'cache', 'revs'), { recursive: true })
  const recheck = xoa(['build', '--spec', f.spec], { env })
  assert.equal(recheck.status, 0, recheck.stderr)
  assert.match(recheck.stdout, new RegExp(`^up to date: ${id}$`, 'm'))
  assert.doesNotMatch(recheck.stdout, /checkout|install/)

  const list = xoa(['releases', '--spec', f.spec, '--json'])
  assert.equal(list.status, 0, list.stderr)
  const rels = JSON.parse(list.stdout)
  assert.equal(rels.length, 1)
  assert.equal(rels[0].id, id)
  assert.equal(rels[0].current, true)
})

test('new revisions: previous is set, --json events, rollback with and without an ID, retention', (t) => {
  const f = fixtureSetup(t)
  f.writeSpec({ build: { keep: 1 } })
  assert.equal(xoa(['build', '--spec', f.spec], { env }).status, 0)
  const first = linkOf(f.state, 'current')

  const rev2 = newRevision(f.src, { stamp: 'two' }, 'feat: release 1.1.0')
  const r2 = xoa(['build', '--spec', f.spec, '--json', '--rev', rev2], { env })
  assert.equal(r2.status, 0, r2.stderr)
  const events = r2.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
  const steps = events.filter((e) => e.event === 'step' && e.status === 'done').map((e) => e.step)
  assert.deepEqual(steps, ['fetch', 'inspect', 'runtime', 'checkout', 'install', 'build', 'finish'])
  assert.equal(events[0].event, 'start')
  const built = events.at(-1)
  assert.equal(built.event, 'built')
  assert.equal(built.switched, true)
  assert.ok(built.release.startsWith(`1.1.0-${rev2.slice(0, 10)}-`))
  assert.equal(linkOf(f.state, 'current'), built.release)
  assert.equal(linkOf(f.state, 'previous'), first)

  // Rollback without an ID swaps current and previous. No systemd here: xoa cannot restart xo-server, so it
  // says exactly what to restart (issue 12). The pin names this release: no note that a build would undo it.
  const rb = xoa(['rollback', '--spec', f.spec])
  assert.equal(rb.status, 0, rb.stderr)
  assert.match(rb.stdout, /^restart needed: xo-server is not running: start .* with `xoa up --no-build`/m)
  assert.doesNotMatch(rb.stdout, /note:/)
  assert.equal(linkOf(f.state, 'current'), first)
  assert.equal(linkOf(f.state, 'previous'), built.release)

  // --no-switch builds without touching current.
  const rev3 = newRevision(f.src, { stamp: 'three' })
  const r3 = xoa(['build', '--spec', f.spec, '--rev', rev3, '--no-switch', '--json'], { env })
  assert.equal(r3.status, 0, r3.stderr)
  const third = JSON.parse(r3.stdout.trim().split('\n').at(-1)!).release
  assert.ok(third.startsWith(`1.1.0-dev-${rev3.slice(0, 10)}`))
  assert.equal(linkOf(f.state, 'current'), first)

  // Rollback with an ID (here: forward to the unswitched build).
  const rb2 = xoa(['rollback', '--spec', f.spec, third, '--json'])
  assert.equal(rb2.status, 0, rb2.stderr)
  const moved = JSON.parse(rb2.stdout)
  assert.deepEqual({ from: moved.from, to: moved.to }, { from: first, to: third })
  assert.match(moved.restart, /xoa up --no-build/)
  assert.match(moved.pinNote, / still names [0-9a-f]{10}: the next `xoa build` .* switches back to it/)
  assert.equal(moved.health, undefined, 'nothing restarted, nothing checked')
  assert.equal(linkOf(f.state, 'previous'), first)
  const bad = xoa(['rollback', '--spec', f.spec, 'no-such-release'])
  assert.equal(bad.status, 1)
  assert.match(bad.stderr, /no complete release no-such-release[\s\S]*next: run `xoa releases`/)

  // keep = 1: after a fourth build, current + previous + one other remain; the oldest non-current goes.
  const rev4 = newRevision(f.src, { stamp: 'four' })
  const r4 = xoa(['build', '--spec', f.spec, '--rev', rev4], { env })
  assert.equal(r4.status, 0, r4.stderr)
  const ids = readdirSync(join(f.state, 'releases')).filter((n) => !n.startsWith('.'))
  assert.equal(ids.length, 3, ids.join(' '))
  assert.ok(ids.includes(linkOf(f.state, 'current')) && ids.includes(linkOf(f.state, 'previous')))
  assert.equal(linkOf(f.state, 'previous'), third)
  assert.deepEqual(
    ids.sort(),
    [first, built.release, third, linkOf(f.state, 'current')].filter((i) => i !== first).sort(),
  )
  assert.match(r4.stdout, new RegExp(`removed ${first}`))
})

test('a failing build exits 1, names the step, shows the log tail, and leaves current untouched', (t) => {
  const f = fixtureSetup(t)
  assert.equal(xoa(['build', '--spec', f.spec], { env }).status, 0)
  const good = linkOf(f.state, 'current')
  const bad = newRevision(f.src, { fail: true })
  const r = xoa(['build', '--spec', f.spec, '--rev', bad], { env })
  assert.equal(r.status, 1)
  assert.match(r.stderr, /build failed at step "build": exit code 1/)
  assert.match(r.stderr, /error: fixture build failure \(as asked\)/)
  assert.match(
    r.stderr,
    /next: the current release is untouched; .*full log: .*\.log; then run `xoa build` again/,
  )
  assert.equal(linkOf(f.state, 'current'), good)
  assert.ok(!existsSync(join(f.state, 'previous')))
  assert.deepEqual(
    readdirSync(join(f.state, 'releases')).filter((n) => n !== '.lock'),
    [good],
  )
  const log = /full log: (\S+\.log)/.exec(r.stderr)![1]!
  assert.match(readFileSync(log, 'utf8'), /<== build FAILED/)

  const unknown = xoa(['build', '--spec', f.spec, '--rev', 'f'.repeat(40)], { env })
  assert.equal(unknown.status, 1)
  assert.match(unknown.stderr, /has no commit f{40}[\s\S]*next: check source\.rev/)
})

test('while an xoa upgrade holds its lock, a plain `xoa build` (xo-build.service) builds and switches nothing', (t) => {
  const f = fixtureSetup(t)
  // xo-server's restarts during an upgrade start xo-build.service: switching to the pin would undo the upgrade.
  const upgrader = spawn('sleep', ['60'], { stdio: 'ignore' })
  t.after(() => upgrader.kill())
  mkdirSync(f.state, { recursive: true })
  writeFileSync(join(f.state, 'upgrade.lock'), `${upgrader.pid}\n`)
  const r = xoa(['build', '--spec', f.spec], { env })
  assert.equal(r.status, 0, r.stderr + r.stdout)
  assert.match(
    r.stdout,
    new RegExp(`xoa upgrade or rollback \\(pid ${upgrader.pid}\\) is running .*nothing built`),
  )
  assert.ok(!existsSync(join(f.state, 'releases')), 'nothing was built')
  // A lock whose holder is gone is no upgrade: the build runs.
  upgrader.kill()
  writeFileSync(join(f.state, 'upgrade.lock'), '999999999\n')
  const again = xoa(['build', '--spec', f.spec], { env })
  assert.equal(again.status, 0, again.stderr + again.stdout)
  assert.ok(existsSync(join(f.state, 'current')))
})
