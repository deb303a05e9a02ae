// The generated pair really serves TLS, and the service account cannot turn `xoa cert` (run as root) against
// files it should not reach.
import assert from 'node:assert/strict'
import {
  chownSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { test } from 'node:test'
import { connect } from 'node:tls'
import { execa } from 'execa'
import { xoa } from '../helpers.ts'
import { sandbox } from './fixtures.ts'

async function serve(t: { after(fn: () => Promise<void>): void }, key: string, cert: string) {
  const server = createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (_req, res) =>
    res.end('pong'),
  )
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
  t.after(() => new Promise<void>((ok) => server.close(() => ok())))
  return (server.address() as AddressInfo).port
}

test('the generated certificate serves HTTPS: openssl s_client and Node both verify it by name', async (t) => {
  const sb = sandbox(t)
  assert.equal(xoa(['cert', '--spec', sb.spec]).status, 0)
  const port = await serve(t, sb.key, sb.cert)

  for (const name of ['xo.example.test', 'localhost']) {
    const r = await execa(
      'openssl',
      ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', name, '-CAfile', sb.cert].concat([
        '-verify_return_error',
        '-verify_hostname',
        name,
      ]),
      { input: '', reject: false },
    )
    assert.equal(r.exitCode, 0, r.stderr)
    assert.match(r.stdout, /Verify return code: 0 \(ok\)/)
  }
  const ip = await execa(
    'openssl',
    [
      's_client',
      '-connect',
      `127.0.0.1:${port}`,
      '-CAfile',
      sb.cert,
      '-verify_return_error',
      '-verify_ip',
      '127.0.0.1',
    ],
    { input: '', reject: false },
  )
  assert.equal(ip.exitCode, 0, ip.stderr)

  // A name the certificate does not carry is refused: the check above is not vacuous.
  const wrong = await execa(
    'openssl',
    ['s_client', '-connect', `127.0.0.1:${port}`, '-CAfile', sb.cert, '-verify_return_error'].concat([
      '-verify_hostname',
      'evil.example',
    ]),
    { input: '', reject: false },
  )
  assert.notEqual(wrong.exitCode, 0)

  const body = await new Promise<string>((ok, fail) => {
    const s = connect(
      { host: '127.0.0.1', port, servername: 'xo.example.test', ca: readFileSync(sb.cert) },
      () => {
        s.write('GET / HTTP/1.0\r\nHost: xo.example.test\r\n\r\n')
      },
    )
    let data = ''
    s.on('data', (d) => {
      data += d
    })
    s.on('end', () => ok(data))
    s.on('error', fail)
  })
  assert.match(body, /pong$/)
})

test('a symlink planted at the key path is replaced, never followed', (t) => {
  const sb = sandbox(t)
  // The worst case: the service account can write the certificate directory.
  mkdirSync(sb.sslDir)
  chownSync(sb.sslDir, 65534, 65534)
  const victim = join(sb.dir, 'victim')
  symlinkSync(victim, sb.key)
  const r = xoa(['cert', '--spec', sb.spec])
  assert.equal(r.status, 0, r.stderr)
  assert.throws(() => statSync(victim), /ENOENT/, 'nothing written through the symlink')
  assert.ok(lstatSync(sb.key).isFile())
  assert.match(r.stderr, /warning: .*ssl.*\(xo\.ssl\.dir\) is writable by someone other than root/)
})

test('a key path pointing at a root-only file is refused and the file keeps its owner and mode', (t) => {
  const sb = sandbox(t)
  mkdirSync(sb.sslDir)
  const secret = join(sb.dir, 'root-secret')
  writeFileSync(secret, 'root only\n', { mode: 0o600 })
  symlinkSync(secret, sb.key)
  const r = xoa(['cert', '--spec', sb.spec])
  assert.equal(r.status, 1)
  assert.match(r.stderr, /a private key exists but no certificate/)
  assert.doesNotMatch(r.stderr + r.stdout, /root only/, 'the contents are never echoed')
  const st = statSync(secret)
  assert.deepEqual([st.uid, st.mode & 0o7777, readFileSync(secret, 'utf8')], [0, 0o600, 'root only\n'])
})

test("xoa's key swapped for a symlink to another copy is refused rather than chowned through", (t) => {
  const sb = sandbox(t)
  assert.equal(xoa(['cert', '--spec', sb.spec]).status, 0)
  const copy = join(sb.dir, 'copy.pem')
  writeFileSync(copy, readFileSync(sb.key), { mode: 0o640 })
  rmSync(sb.key)
  symlinkSync(copy, sb.key)
  const r = xoa(['cert', '--spec', sb.spec])
  assert.equal(r.status, 1)
  assert.match(r.stderr, /xo\.ssl\.key .*symlink/)
  const st = statSync(copy)
  assert.deepEqual([st.uid, st.mode & 0o7777], [0, 0o640])
})

test("xoa's key swapped for a hard link to a root-only file is refused, the file keeps its owner", (t) => {
  const sb = sandbox(t)
  assert.equal(xoa(['cert', '--spec', sb.spec]).status, 0)
  // The same key bytes (so the certificate still matches and xoa would only fix the owner), root's, elsewhere.
  const victim = join(sb.dir, 'root-copy.pem')
  writeFileSync(victim, readFileSync(sb.key), { mode: 0o600 })
  rmSync(sb.key)
  linkSync(victim, sb.key)
  const r = xoa(['cert', '--spec', sb.spec])
  assert.notEqual(r.status, 0, r.stdout)
  assert.match(r.stderr, /key\.pem: has 2 hard links/)
  const st = statSync(victim)
  assert.deepEqual([st.uid, st.gid, st.mode & 0o7777], [0, 0, 0o600])
})
