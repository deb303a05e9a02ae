// The health check against fake servers on loopback that record every byte they receive: the admin's password
// reaches only a TLS peer holding exactly the configured certificate; a plain HTTP listener, a server with another
// certificate, or one that answers the ping with the right certificate and then swaps it, never see it.
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { createServer as createNetServer, type Server } from 'node:net'
import { join } from 'node:path'
import { test } from 'node:test'
import { createServer as createTlsServer } from 'node:tls'
import { checkHealth, localEndpoint } from '../../src/run/health.ts'
import { validateSpec } from '../../src/spec/load.ts'
import { generateSelfSigned } from '../../src/tls/generate.ts'
import { freePort, tempDir } from '../helpers.ts'

const admin = { email: 'ops@example.test', password: 'S3cret-health-pw' }
const basic = Buffer.from(`${admin.email}:${admin.password}`).toString('base64')
const reply = (body: string) =>
  `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`
const PONG = reply('{"result":"pong"}')
const USERS = reply('[]')

/** What a fake server saw: all bytes of all connections, decrypted when it speaks TLS. */
interface Seen {
  bytes: () => string
  connections: () => number
}

/** Answers every request that ends its headers: pong for the ping, [] for anything else. */
function answer(sock: import('node:net').Socket, seen: { data: string }) {
  let buf = ''
  sock.on('data', (d: Buffer) => {
    seen.data += d.toString('latin1')
    buf += d.toString('latin1')
    if (buf.includes('\r\n\r\n') || !/^[A-Z]+ /.test(buf))
      sock.end(/\/rest\/v0\/ping/.test(buf) ? PONG : USERS)
  })
  sock.on('error', () => {})
}

async function listen(server: Server, t: { after(fn: () => void): void }): Promise<number> {
  const port = await freePort()
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r))
  t.after(() => server.close())
  return port
}

function plainHttp(t: { after(fn: () => void): void }): Promise<{ port: number; seen: Seen }> {
  const s = { data: '', n: 0 }
  const server = createNetServer((sock) => {
    s.n++
    answer(sock, s)
  })
  return listen(server, t).then((port) => ({ port, seen: { bytes: () => s.data, connections: () => s.n } }))
}

/** A TLS server presenting `certs[i]` on its i-th connection (the last one from then on). */
function tlsServer(
  t: { after(fn: () => void): void },
  certs: { keyPem: string; certPem: string }[],
): Promise<{ port: number; seen: Seen & { resumed: () => number } }> {
  const s = { data: '', n: 0, resumed: 0 }
  const ctx = (i: number) => {
    const c = certs[Math.min(i, certs.length - 1)]!
    return { key: c.keyPem, cert: c.certPem }
  }
  const server = createTlsServer(ctx(0), (sock) => {
    if (sock.isSessionReused()) s.resumed++
    answer(sock, s)
  })
  // Counted at the TCP accept, so the context is swapped before that connection's handshake.
  server.on('connection', () => {
    s.n++
    server.setSecureContext(ctx(s.n))
  })
  return listen(server, t).then((port) => ({
    port,
    seen: { bytes: () => s.data, connections: () => s.n, resumed: () => s.resumed },
  }))
}

function spec(dir: string, o: { port: number; ssl: boolean; cert: string }) {
  return validateSpec({
    xo: {
      host: '127.0.0.1',
      port: o.ssl ? o.port + 1 : o.port,
      httpsPort: o.ssl ? o.port : o.port + 1,
      stateDir: join(dir, 'state'),
      ssl: { enable: o.ssl, dir, key: join(dir, 'key.pem'), cert: o.cert },
    },
    service: { user: 'nobody', group: 'nogroup' },
    webAdmin: { email: admin.email },
  })
}

function assertNoCredentials(seen: Seen) {
  const b = seen.bytes()
  assert.doesNotMatch(b, /authorization/i, 'an Authorization header reached the fake server')
  assert.ok(!b.includes(admin.password) && !b.includes(basic), 'the password reached the fake server')
}

const names = { commonName: 'xo.test', dns: ['xo.test'], ips: ['127.0.0.1'] }

test('(a) a plain HTTP listener on the port never receives the password', async (t) => {
  const dir = tempDir(t, 'xoa-health-')
  const right = await generateSelfSigned({ names })
  writeFileSync(join(dir, 'cert.pem'), right.certPem)
  // HTTPS off: ping only, and the report says why sign-in was not checked.
  const off = await plainHttp(t)
  const r = await checkHealth(
    localEndpoint(spec(dir, { port: off.port, ssl: false, cert: join(dir, 'cert.pem') })),
    admin,
  )
  assertNoCredentials(off.seen)
  assert.ok(off.seen.connections() >= 1, 'the ping reached it')
  assert.deepEqual([r.healthy, r.ping, r.signIn], [true, true, undefined])
  assert.match(r.signInSkipped ?? '', /HTTPS is off/)

  // HTTPS on with a pin, but the port speaks plain HTTP: a ClientHello at most, never a request.
  const on = await plainHttp(t)
  const r2 = await checkHealth(
    localEndpoint(spec(dir, { port: on.port, ssl: true, cert: join(dir, 'cert.pem') })),
    admin,
  )
  assertNoCredentials(on.seen)
  assert.doesNotMatch(on.seen.bytes(), /GET /)
  assert.equal(r2.healthy, false)
})

test('(b) a TLS server with another certificate never receives the password, even after a good ping', async (t) => {
  const dir = tempDir(t, 'xoa-health-')
  const right = await generateSelfSigned({ names })
  const other = await generateSelfSigned({ names })
  writeFileSync(join(dir, 'cert.pem'), right.certPem)
  const cert = join(dir, 'cert.pem')

  const wrong = await tlsServer(t, [other])
  const r = await checkHealth(localEndpoint(spec(dir, { port: wrong.port, ssl: true, cert })), admin)
  assertNoCredentials(wrong.seen)
  assert.equal(wrong.seen.bytes(), '', 'nothing at all was written to the wrong peer')
  assert.equal(r.ping, false)
  assert.match(r.reason ?? '', /not the configured/)

  // The real server answers the ping, then the port presents another certificate (the race of finding 12).
  const swapped = await tlsServer(t, [right, other])
  const r2 = await checkHealth(localEndpoint(spec(dir, { port: swapped.port, ssl: true, cert })), admin)
  assertNoCredentials(swapped.seen)
  assert.match(swapped.seen.bytes(), /GET \/rest\/v0\/ping/, 'the ping went to the right certificate')
  assert.equal(swapped.seen.connections(), 2)
  assert.deepEqual([r2.healthy, r2.ping, r2.signIn], [false, true, false])
  assert.match(r2.reason ?? '', /not the configured/)

  // No certificate file to pin: ping only, said so; the password stays home.
  const any = await tlsServer(t, [other])
  const r3 = await checkHealth(
    localEndpoint(spec(dir, { port: any.port, ssl: true, cert: join(dir, 'missing.pem') })),
    admin,
  )
  assertNoCredentials(any.seen)
  assert.deepEqual([r3.healthy, r3.ping, r3.signIn], [true, true, undefined])
  assert.match(r3.signInSkipped ?? '', /no certificate to pin at .*missing\.pem/)
})

test('(c) the configured certificate gets the sign-in (the fake server does see it: the test can fail)', async (t) => {
  const dir = tempDir(t, 'xoa-health-')
  const right = await generateSelfSigned({ names })
  writeFileSync(join(dir, 'cert.pem'), right.certPem)
  const good = await tlsServer(t, [right])
  const r = await checkHealth(
    localEndpoint(spec(dir, { port: good.port, ssl: true, cert: join(dir, 'cert.pem') })),
    admin,
  )
  assert.deepEqual([r.healthy, r.ping, r.signIn], [true, true, true], r.reason)
  assert.match(good.seen.bytes(), new RegExp(`authorization: Basic ${basic}`, 'i'))
  // Two full handshakes, no resumption: each connection was counted (and checked) on its own.
  assert.equal(good.seen.connections(), 2)
  assert.equal(good.seen.resumed(), 0, 'a TLS session was resumed')
})
