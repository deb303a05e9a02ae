// Opt-in: build the real upstream Xen Orchestra with `xoa build` and start the current release far enough to
// answer GET /rest/v0/ping. XO_SOURCE_URL=<git url of xen-orchestra> [XO_SOURCE_REV=<commit>] (default: the
// pin). Needs a registry that has every tarball of that revision's yarn.lock. Takes many minutes.
import assert from 'node:assert/strict'
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort, tempDir, xoa } from '../helpers.ts'
import { runtimeEnv } from './helpers.ts'

const url = process.env.XO_SOURCE_URL

test('real XO: xoa build, then the current release answers /rest/v0/ping', {
  skip: !url && 'skipped: XO_SOURCE_URL not set',
  timeout: 60 * 60_000,
}, async (t) => {
  const dir = process.env.XOA_REAL_STATE_DIR ? process.env.XOA_REAL_STATE_DIR : tempDir(t, 'xoa-real-')
  const state = join(dir, 'state')
  const spec = join(dir, 'spec.json')
  const source: Record<string, string> = { url: url! }
  if (process.env.XO_SOURCE_REV) source.rev = process.env.XO_SOURCE_REV
  writeFileSync(spec, JSON.stringify({ xo: { stateDir: state }, source }))
  const etcBefore = existsSync('/etc/xo-server') ? readdirSync('/etc/xo-server') : undefined

  const t0 = Date.now()
  const b = spawnSync(
    process.execPath,
    [join(import.meta.dirname, '../../dist/xoa.mjs'), 'build', '--spec', spec],
    {
      env: { ...process.env, ...runtimeEnv, NO_COLOR: '1' },
      encoding: 'utf8',
      timeout: 55 * 60_000,
    },
  )
  t.diagnostic(`xoa build: exit ${b.status} in ${((Date.now() - t0) / 1000).toFixed(0)} s`)
  assert.equal(b.status, 0, `${b.stdout}\n${b.stderr}`)
  const noop = xoa(['build', '--spec', spec], { env: runtimeEnv })
  assert.match(noop.stdout, /^up to date: /m)
  // Real XO's tarballs set setuid/setgid bits on install (fuse-shared-library-linux): none is left.
  const setid = execFileSync('find', [`${join(state, 'current')}/`, '!', '-type', 'l', '-perm', '/6000'], {
    encoding: 'utf8',
  }).trim()
  assert.equal(setid, '', `setuid/setgid files in the release:\n${setid.split('\n').slice(0, 10).join('\n')}`)

  const run = join(dir, 'run')
  mkdirSync(join(run, 'config', 'xo-server'), { recursive: true })
  mkdirSync(join(run, 'data'))
  const sock = join(run, 'redis.sock')
  const redis = spawn('redis-server', ['--port', '0', '--unixsocket', sock, '--dir', run, '--save', ''], {
    stdio: 'ignore',
  })
  t.after(() => redis.kill())
  const port = await freePort()
  writeFileSync(
    join(run, 'config', 'xo-server', 'config.toml'),
    `datadir = '${join(run, 'data')}'\n[http]\nsessionSecret = 'test-only'\n[http.listen.0]\nhostname = '127.0.0.1'\nport = ${port}\n[redis]\nsocket = '${sock}'\n[remoteOptions]\nmountsDir = '${join(run, 'mounts')}'\n`,
  )
  const server = spawn(
    join(state, 'current', 'node', 'bin', 'node'),
    [join(state, 'current', 'xo', 'packages', 'xo-server', 'dist', 'cli.mjs')],
    {
      cwd: run,
      env: { ...process.env, XDG_CONFIG_HOME: join(run, 'config'), HOME: run },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let log = ''
  server.stdout.on('data', (d) => (log += d))
  server.stderr.on('data', (d) => (log += d))
  t.after(() => server.kill('SIGKILL'))

  const s0 = Date.now()
  let body = ''
  for (let i = 0; i < 180 && !body.includes('pong'); i++) {
    await sleep(1000)
    body = await fetch(`http://127.0.0.1:${port}/rest/v0/ping`).then(
      (r) => r.text(),
      () => '',
    )
  }
  t.diagnostic(`ping answered after ${((Date.now() - s0) / 1000).toFixed(1)} s: ${body}`)
  assert.match(body, /pong/, log.slice(-3000))
  const etcAfter = existsSync('/etc/xo-server') ? readdirSync('/etc/xo-server') : undefined
  assert.deepEqual(etcAfter, etcBefore, 'nothing written to /etc/xo-server')
})
