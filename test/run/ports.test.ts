import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:net'
import { test } from 'node:test'
import { checkPorts, isPortFree, serverListeners } from '../../src/run/ports.ts'
import { validateSpec } from '../../src/spec/load.ts'

test('listeners: HTTP and HTTPS from the spec; HTTP only without SSL', () => {
  assert.deepEqual(serverListeners(validateSpec({})), [
    { field: 'xo.port', host: '0.0.0.0', port: 80, tls: false },
    { field: 'xo.httpsPort', host: '0.0.0.0', port: 443, tls: true },
  ])
  assert.deepEqual(
    serverListeners(validateSpec({ xo: { ssl: { enable: false }, port: 8080 } })).map((l) => l.port),
    [8080],
  )
})

test('xo.settings.http.listen overrides an entry by key and adds others', () => {
  const spec = validateSpec({
    xo: {
      settings: { http: { listen: { '1': { port: 8443 }, '2': { hostname: '127.0.0.1', port: 9000 } } } },
    },
  })
  assert.deepEqual(serverListeners(spec), [
    { field: 'xo.port', host: '0.0.0.0', port: 80, tls: false },
    { field: 'xo.settings.http.listen.1.port', host: '0.0.0.0', port: 8443, tls: true },
    { field: 'xo.settings.http.listen.2.port', host: '127.0.0.1', port: 9000, tls: false },
  ])
})

test('a settings listener on a port xoa already uses is an error naming both fields', () => {
  const spec = validateSpec({ xo: { settings: { http: { listen: { '2': { port: 443 } } } } } })
  const p = checkPorts(spec)
  assert.equal(p.length, 1)
  assert.equal(p[0]!.severity, 'error')
  assert.match(`${p[0]!.field}: ${p[0]!.message}`, /listen\.2\.port: port 443 is also used by xo\.httpsPort/)
  // Different concrete addresses on one port do not clash.
  const apart = validateSpec({
    xo: { host: '10.0.0.1', settings: { http: { listen: { '2': { hostname: '127.0.0.1', port: 443 } } } } },
  })
  assert.deepEqual(checkPorts(apart), [])
})

test('with the firewall on: a closed listener port is a warning, a stale 80/443 an info; off: nothing', () => {
  const spec = validateSpec({ xo: { httpsPort: 8443 }, firewall: { enable: true } })
  assert.deepEqual(
    checkPorts(spec).map((p) => [p.severity, p.message.slice(0, 40)]),
    [
      ['warning', 'xo.httpsPort = 8443 is not in firewall.p'],
      ['info', 'port 443 is open but xo-server does not '],
    ],
  )
  assert.deepEqual(checkPorts(validateSpec({ xo: { httpsPort: 8443 } })), [])
  assert.deepEqual(checkPorts(validateSpec({ firewall: { enable: true } })), [])
  // A loopback-only listener needs no open port.
  const lo = validateSpec({
    xo: { host: '127.0.0.1', port: 8080, httpsPort: 8443 },
    firewall: { enable: true, ports: [80, 443] },
  })
  assert.deepEqual(
    checkPorts(lo).map((p) => p.severity),
    ['info', 'info'],
  )
})

test('isPortFree: false while a real listener holds the port, true once it is closed', async () => {
  const server: Server = createServer()
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
  const { port } = server.address() as { port: number }
  assert.equal(await isPortFree('127.0.0.1', port), false)
  assert.equal(await isPortFree('0.0.0.0', port), false, 'the wildcard address overlaps 127.0.0.1')
  await new Promise<void>((ok) => server.close(() => ok()))
  assert.equal(await isPortFree('127.0.0.1', port), true)
})

test('isPortFree: an address that is not on this machine is an error, not "free"', async () => {
  await assert.rejects(isPortFree('192.0.2.123', 0), /EADDRNOTAVAIL/)
})
