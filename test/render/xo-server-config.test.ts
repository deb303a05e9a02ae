import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parse } from 'smol-toml'
import { deepMerge } from '../../src/render/merge.ts'
import { renderXoServerConfig, renderXoServerSecrets } from '../../src/render/xo-server-config.ts'
import { spec } from './cases.ts'

// smol-toml returns null-prototype objects; a JSON round trip makes them plain for deepEqual.
const toml = (text: string) => JSON.parse(JSON.stringify(parse(text)))
const parsed = (s = spec()) => toml(renderXoServerConfig(s).content)

test('config.toml parses back with the listeners, redis socket, datadir and remote options', () => {
  const c = parsed()
  assert.equal(c.datadir, '/var/lib/xo/data')
  assert.deepEqual(c.http.listen['0'], { hostname: '0.0.0.0', port: 80 })
  assert.deepEqual(c.http.listen['1'], {
    hostname: '0.0.0.0',
    port: 443,
    cert: '/etc/ssl/xo/certificate.pem',
    key: '/etc/ssl/xo/key.pem',
    autoCert: false,
  })
  assert.equal(c.http.redirectToHttps, true)
  assert.deepEqual(c.redis, { socket: '/run/redis-xo/redis.sock' })
  assert.deepEqual(c.remoteOptions, { mountsDir: '/var/lib/xo/mounts', useSudo: true })
  assert.equal(c.http.sessionSecret, undefined, 'the session secret lives in its own file')
})

test('without SSL there is one listener and no redirect', () => {
  const c = parsed(spec({ xo: { ssl: { enable: false }, port: 8080 } }))
  assert.deepEqual(Object.keys(c.http.listen), ['0'])
  assert.equal(c.http.listen['0'].port, 8080)
  assert.equal(c.http.redirectToHttps, undefined)
})

test('useSudo follows mounts.mode: broker and sudo yes, none no', () => {
  assert.equal(parsed(spec({ mounts: { mode: 'broker' } })).remoteOptions.useSudo, true)
  assert.equal(parsed(spec({ mounts: { mode: 'sudo' } })).remoteOptions.useSudo, true)
  assert.equal(parsed(spec({ mounts: { mode: 'none' } })).remoteOptions.useSudo, false)
})

test('xo.settings merge last: objects by key, arrays by index, scalars replaced', () => {
  const c = parsed(
    spec({
      xo: {
        settings: {
          http: { listen: { '1': { port: 4443 } }, useForwardedHeaders: true },
          authentication: { defaultTokenValidity: '1 day' },
          plugins: { lookupPaths: ['./x'] },
        },
      },
    }),
  )
  assert.equal(c.http.listen['1'].port, 4443)
  assert.equal(c.http.listen['1'].autoCert, false, 'a later layer cannot delete a key')
  assert.equal(c.http.useForwardedHeaders, true)
  assert.equal(c.authentication.defaultTokenValidity, '1 day')
  assert.deepEqual(c.plugins.lookupPaths, ['./x'])
})

test('deepMerge: arrays by index like app-conf, inputs untouched, __proto__ stays data', () => {
  const base = { a: [1, { x: 1, y: 2 }, 3], b: { c: 1 } }
  const over = JSON.parse('{"a":[9,{"y":5}],"b":{"d":2},"__proto__":{"polluted":true}}')
  const m = deepMerge(base, over) as Record<string, unknown>
  assert.deepEqual(m.a, [9, { x: 1, y: 5 }, 3])
  assert.deepEqual(m.b, { c: 1, d: 2 })
  assert.deepEqual(base.a, [1, { x: 1, y: 2 }, 3])
  assert.equal((Object.prototype as Record<string, unknown>).polluted, undefined)
  assert.equal(m.polluted, undefined)
  assert.deepEqual(Object.getOwnPropertyDescriptor(m, '__proto__')?.value, { polluted: true })
})

test('config.toml is readable by the service group only (settings may hold credentials)', () => {
  const f = renderXoServerConfig(spec({ service: { user: 'xs', group: 'xsg' } }))
  assert.equal(f.path, '/etc/xo-server/config.toml')
  assert.equal(f.mode, 0o640)
  assert.deepEqual([f.owner, f.group], ['root', 'xsg'])
})

test('the session secret goes to a separate secret file merged after config.toml', () => {
  const secret = 'a"b\\c'.padEnd(40, 'z')
  const f = renderXoServerSecrets(secret, spec())
  assert.equal(f.path, '/etc/xo-server/config.z-secrets.toml')
  assert.ok(f.path > '/etc/xo-server/config.toml', 'app-conf reads config.* sorted: the secrets come last')
  assert.equal(f.secret, true)
  assert.equal(f.mode & 0o007, 0, 'not world-readable')
  assert.deepEqual([f.owner, f.group], ['root', 'xo'])
  assert.deepEqual(toml(f.content), { http: { sessionSecret: secret } })
  assert.throws(() => renderXoServerSecrets('short', spec()), /at least 16/)
})
