// "Is xo-server running?" without systemd comes from the lock `xoa up` holds, never from a command line: a process
// run as nobody that looks exactly like xo-server (its path, its port, even a lock socket of its own) is not
// running; a live lock is, until its holder dies; and restore refuses under it, changing nothing.
import assert from 'node:assert/strict'
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { chmodSync, chownSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { test } from 'node:test'
import { detectServiceControl } from '../../src/backup/services.ts'
import { holdUpLock, isUpRunning, upHolder, upLockPath } from '../../src/run/up-lock.ts'
import { loadSpecFile } from '../../src/spec/load.ts'
import { hostView } from '../../src/status/host.ts'
import { observeServer } from '../../src/status/server.ts'
import { makeHost } from '../backup/fixture.ts'
import { fingerprint, withDb } from '../backup/redis-server.ts'
import { freePort, REPO, tempDir, xoa } from '../helpers.ts'

const id = (flag: string, name: string) =>
  Number(spawnSync('id', [flag, name], { encoding: 'utf8' }).stdout.trim())
const NOBODY = { uid: id('-u', 'nobody'), gid: id('-g', 'nobody') }

// Listens on the given TCP port (as xo-server would) and, when given a path, on a Unix socket there.
const FAKE = `
import { createServer } from 'node:http'
import { createServer as unix } from 'node:net'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
const [port, sock] = process.argv.slice(2)
createServer((q, r) => r.end('{"result":"pong"}')).listen(Number(port), '127.0.0.1', () => {
  if (!sock) return console.log('listening')
  mkdirSync(dirname(sock), { recursive: true, mode: 0o700 })
  unix((c) => c.end(JSON.stringify({ pid: process.pid, server: { pid: process.pid, since: 'x' } }))).listen(sock, () => console.log('listening'))
})
`

function started(child: ChildProcess, word: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (d) => {
      out += d
      if (out.includes(word)) resolve()
    })
    child.stderr!.on('data', (d) => {
      out += d
    })
    child.once('exit', (c) => reject(new Error(`exited ${c}: ${out}`)))
  })
}

function writeSpec(dir: string, state: string, port: number): string {
  const file = join(dir, `spec-${port}.json`)
  writeFileSync(
    file,
    JSON.stringify({
      xo: { host: '127.0.0.1', port, httpsPort: port + 1, ssl: { enable: false }, stateDir: state },
      service: { user: 'nobody', group: 'nogroup' },
    }),
  )
  return file
}

const connects = (path: string) =>
  new Promise<boolean>((resolve) => {
    const s = connect(path)
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })

test('a fake xo-server run as nobody, with its own lock socket, is not running', async (t) => {
  const root = tempDir(t, 'xoa-uplock-')
  chmodSync(root, 0o755)
  const cli = join(root, 'fake', 'xo-server', 'dist', 'cli.mjs')
  mkdirSync(join(root, 'fake', 'xo-server', 'dist'), { recursive: true })
  writeFileSync(cli, FAKE, { mode: 0o644 })
  // The state dir's parent belongs to nobody here, so it can plant <stateDir>/run/up.sock itself.
  const evil = join(root, 'evil')
  mkdirSync(evil, { mode: 0o755 })
  chownSync(evil, NOBODY.uid, NOBODY.gid)
  const port = await freePort()
  const spec = loadSpecFile(writeSpec(root, join(evil, 'state'), port))
  const fake = spawn(process.execPath, [cli, String(port), upLockPath(spec)], {
    ...NOBODY,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  t.after(() => fake.kill('SIGKILL'))
  await started(fake, 'listening')

  // It looks like xo-server to anything reading /proc, and its socket answers at the lock's path...
  const facts = await observeServer(spec, hostView())
  const holders = facts.ports.flatMap((p) => p.holders)
  assert.ok(
    holders.some((h) => h.pid === fake.pid && /xo-server\/dist\/cli\.mjs/.test(h.command)),
    JSON.stringify(holders),
  )
  assert.equal(lstatSync(upLockPath(spec)).uid, NOBODY.uid)
  assert.equal(await connects(upLockPath(spec)), true)
  // ...but it is not running: the lock's directory is nobody's, not root's.
  assert.equal(facts.running, false)
  assert.equal(facts.pid, undefined)
  assert.equal(await isUpRunning(spec), false)
  assert.equal((await detectServiceControl(spec)).underUp, undefined)
})

test('the lock xoa up holds: running while it lives, refused twice, stale after a kill, released on stop', async (t) => {
  const root = tempDir(t, 'xoa-uplock-')
  const port = await freePort()
  const specFile = writeSpec(root, join(root, 'state'), port)
  const spec = loadSpecFile(specFile)
  assert.equal(await isUpRunning(spec), false)

  const holder = spawn(
    process.execPath,
    ['--import', 'tsx', join(REPO, 'test/run/hold-up-lock.ts'), specFile, '4242'],
    {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  t.after(() => holder.kill('SIGKILL'))
  await started(holder, 'held')

  const dir = lstatSync(join(root, 'state', 'run'))
  assert.deepEqual([dir.uid, dir.mode & 0o7777], [0, 0o700])
  assert.ok(lstatSync(upLockPath(spec)).isSocket())
  assert.deepEqual(await upHolder(spec), {
    pid: holder.pid,
    server: { pid: 4242, since: '2026-01-01T00:00:00.000Z' },
  })
  const facts = await observeServer(spec, hostView())
  assert.deepEqual([facts.running, facts.pid, facts.upPid], [true, 4242, holder.pid])
  await assert.rejects(
    holdUpLock(spec, () => undefined),
    /xoa up is already running .*pid \d+/,
  )

  const control = await detectServiceControl(spec)
  assert.equal(control.underUp, true)
  assert.equal(await control.isActive(), true)
  await assert.rejects(control.stop(), (e: Error & { hint?: string }) => {
    assert.match(e.message, /xoa up \(pid \d+\) is running xo-server .*nothing was changed/)
    assert.equal(e.hint, 'stop xoa up first, or restore before it starts')
    return true
  })

  // SIGKILL leaves the socket file behind; it answers nobody, so it is not running and the next up replaces it.
  holder.kill('SIGKILL')
  await new Promise((r) => holder.once('exit', r))
  assert.ok(lstatSync(upLockPath(spec)).isSocket())
  assert.equal(await isUpRunning(spec), false)
  const lock = await holdUpLock(spec, () => undefined)
  assert.equal((await upHolder(spec))?.pid, process.pid)
  assert.equal(
    (await observeServer(spec, hostView())).running,
    false,
    'up holds the lock, xo-server not started',
  )
  await lock.release()
  assert.equal(await isUpRunning(spec), false)
})

test('a lock dir someone else could write is refused by xoa up, not trusted by readers', async (t) => {
  const root = tempDir(t, 'xoa-uplock-')
  const spec = loadSpecFile(writeSpec(root, join(root, 'state'), await freePort()))
  mkdirSync(join(root, 'state', 'run'), { recursive: true })
  chmodSync(join(root, 'state', 'run'), 0o777)
  await assert.rejects(
    holdUpLock(spec, () => undefined),
    /mode 777, not 0700/,
  )
  chmodSync(join(root, 'state', 'run'), 0o700)
  chmodSync(join(root, 'state'), 0o777)
  await assert.rejects(
    holdUpLock(spec, () => undefined),
    /state is writable by others/,
  )
  // A reader trusts a live lock only under such parents: the same socket stops counting once they are not.
  chmodSync(join(root, 'state'), 0o755)
  const lock = await holdUpLock(spec, () => undefined)
  t.after(() => lock.release())
  assert.equal(await isUpRunning(spec), true)
  chmodSync(join(root, 'state'), 0o777)
  assert.equal(await connects(upLockPath(spec)), true)
  assert.equal(await isUpRunning(spec), false)
})

test('restore under a live xoa up refuses and changes nothing; backup takes it live and says so', async (t) => {
  const h = await makeHost(t)
  const b = xoa(['backup', '--spec', h.specFile, '--json'], { env: h.env })
  assert.equal(b.status, 0, b.stderr)
  const archive = JSON.parse(b.stdout).archive as string
  await withDb(h.socket, 0, (c) => c.set('xo:after-backup', 'kept'))
  writeFileSync(join(h.dataDir, 'leveldb', '000099.ldb'), 'newer table')
  const redis = await fingerprint(h.socket)
  const data = readdirSync(join(h.dataDir, 'leveldb')).sort()

  const holder = spawn(
    process.execPath,
    ['--import', 'tsx', join(REPO, 'test/run/hold-up-lock.ts'), h.specFile],
    {
      cwd: REPO,
      env: { ...process.env, ...h.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  t.after(() => holder.kill('SIGKILL'))
  await started(holder, 'held')

  const r = xoa(['restore', archive, '--spec', h.specFile, '--yes'], { env: h.env })
  assert.notEqual(r.status, 0, r.stdout)
  assert.match(r.stderr, new RegExp(`xoa up \\(pid ${holder.pid}\\) is running xo-server`))
  assert.match(r.stderr, /stop xoa up first, or restore before it starts/)
  assert.deepEqual(await fingerprint(h.socket), redis, 'Redis untouched')
  assert.deepEqual(readdirSync(join(h.dataDir, 'leveldb')).sort(), data, 'data dir untouched')
  assert.equal(readFileSync(join(h.dataDir, 'leveldb', '000099.ldb'), 'utf8'), 'newer table')

  const live = xoa(['backup', '--spec', h.specFile], { env: h.env })
  assert.equal(live.status, 0, live.stderr)
  assert.match(
    live.stdout,
    new RegExp(`taken live: xo-server is running under xoa up \\(pid ${holder.pid}\\)`),
  )
  assert.doesNotMatch(live.stdout, /not running/)
})
