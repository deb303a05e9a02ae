import assert from 'node:assert/strict'
import { test } from 'node:test'
import { validateSpec } from '../../src/spec/load.ts'
import { desiredCertNames } from '../../src/tls/names.ts'

test('defaults: the machine host name, localhost and loopback; the wildcard listen address is skipped', () => {
  const n = desiredCertNames(validateSpec({}), 'Box1')
  assert.deepEqual(n, { commonName: 'box1', dns: ['box1', 'localhost'], ips: ['127.0.0.1', '::1'] })
})

test('xo.hostname wins over the machine name; a concrete listen IP is a SAN', () => {
  const n = desiredCertNames(validateSpec({ xo: { hostname: 'xo.example.org', host: '10.1.2.3' } }), 'box1')
  assert.deepEqual(n, {
    commonName: 'xo.example.org',
    dns: ['xo.example.org', 'localhost'],
    ips: ['10.1.2.3', '127.0.0.1', '::1'],
  })
})

test('IPv6 wildcard skipped; a listen address that is a name becomes a DNS SAN; no duplicates', () => {
  assert.deepEqual(desiredCertNames(validateSpec({ xo: { host: '::' } }), 'h').ips, ['127.0.0.1', '::1'])
  assert.deepEqual(desiredCertNames(validateSpec({ xo: { host: 'xo-int' } }), 'h').dns, [
    'h',
    'localhost',
    'xo-int',
  ])
  assert.deepEqual(desiredCertNames(validateSpec({ xo: { host: '127.0.0.1' } }), 'h').ips, [
    '127.0.0.1',
    '::1',
  ])
})

test('a host name that is an IP address goes in as an IP SAN', () => {
  const n = desiredCertNames(validateSpec({ xo: { hostname: '192.168.1.5' } }), 'h')
  assert.equal(n.commonName, '192.168.1.5')
  assert.deepEqual(n.dns, ['localhost'])
  assert.deepEqual(n.ips, ['192.168.1.5', '127.0.0.1', '::1'])
})
