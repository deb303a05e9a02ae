// Issue 10 #9: the broker under load. A client trickling one byte at a time is cut off at the request
// deadline (counted from the connection, not renewed by each byte), and a flood of a thousand idle
// connections does not keep a legitimate request out: it is answered, promptly.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { chmodSync, mkdirSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { requestBroker } from '../../src/mount/client.ts'
import { startDaemon } from '../../src/mount/daemon.ts'
import { tempDir } from '../helpers.ts'
import { CTX } from './cases.ts'

async function broker(t: { after(fn: () => void): void }) {
  const base = tempDir(t, 'xoa-load-')
  chmodSync(base, 0o755)
  const mountsDir = join(base, 'mounts')
  mkdirSync(mountsDir)
  const socketPath = join(base, 'mountd.sock')
  const server = await startDaemon({
    ctx: { ...CTX, mountsDir, dataDir: join(base, 'data') },
    socketPath,
    gid: 65534,
    env: {},
    log: () => {},
    executor: async () => ({ code: 0, stdout: 'ran\n', stderr: '' }),
  })
  t.after(() => server.close())
  return { socketPath, mountsDir, server }
}

describe('broker under load (issue 10 #9)', () => {
  it('a trickling client is cut off at the deadline, not kept alive by each byte', async (t) => {
    const { socketPath } = await broker(t)
    const start = Date.now()
    const answer = await new Promise<string>((resolve) => {
      const s = connect(socketPath)
      let out = ''
      const text = '{"argv": ["findmnt", "/srv/xo/mounts/r1"]}'
      let i = 0
      const drip = setInterval(() => s.writable && i < text.length && s.write(text[i++]!), 250)
      s.on('data', (c) => (out += c))
      s.on('error', () => {})
      s.on('close', () => {
        clearInterval(drip)
        resolve(out)
      })
    })
    const elapsed = Date.now() - start
    assert.match(answer, /no complete request within 5000 ms/)
    assert.ok(elapsed >= 5000 - 100 && elapsed < 5000 + 2000, `${elapsed} ms`)
  })

  it('1000 idle connections against a daemon with 256 descriptors: a legitimate request still succeeds', async (t) => {
    const base = tempDir(t, 'xoa-flood-')
    chmodSync(base, 0o755)
    const mountsDir = join(base, 'mounts')
    mkdirSync(mountsDir)
    const socketPath = join(base, 'mountd.sock')
    // Its own process, with the descriptor limit a service might have: the flood must not exhaust it.
    const daemon = spawn(
      'prlimit',
      [
        '--nofile=256:256',
        process.execPath,
        '--import',
        'tsx',
        join(import.meta.dirname, 'fixtures', 'echo-daemon.ts'),
        socketPath,
        mountsDir,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    )
    t.after(() => daemon.kill('SIGKILL'))
    await new Promise((r) => daemon.stdout!.once('data', r))
    const flood: Socket[] = []
    t.after(() => {
      for (const s of flood) s.destroy()
    })
    let dropped = 0
    for (let i = 0; i < 1000; i++) {
      const s = connect(socketPath)
      s.on('error', () => {})
      s.resume()
      s.on('close', () => dropped++)
      flood.push(s)
      if (i % 100 === 99) await new Promise((r) => setTimeout(r, 50))
    }
    await new Promise((r) => setTimeout(r, 500))
    const start = Date.now()
    const r = await requestBroker(socketPath, { argv: ['findmnt', `${mountsDir}/r1`], env: {} }, 10_000)
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'ran\n')
    assert.ok(Date.now() - start < 3000, `answered in ${Date.now() - start} ms`)
    assert.ok(
      dropped > 0,
      `idle connections were dropped (${dropped}, ${flood.filter((s) => !s.connecting).length} connected)`,
    )
  })
})
