// The xoState section of the spec: secrets only from files, SSO users without passwords, fields named in errors.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { SpecError, validateSpec } from '../../src/spec/load.ts'

function problems(xoState: unknown, extra: Record<string, unknown> = {}): string[] {
  try {
    validateSpec({ xoState, ...extra })
    return []
  } catch (e) {
    if (!(e instanceof SpecError)) throw e
    return e.problems.map((p) => `${p.field}: ${p.message}`)
  }
}

test('a full section validates, with defaults filled', () => {
  const spec = validateSpec({
    xoState: {
      servers: { a: { host: '192.0.2.1:443', passwordFile: '/run/keys/a' } },
      remotes: { n: { type: 'nfs', host: 'nas', path: '/x', options: 'vers=4' } },
      users: { 'a@b.c': { passwordFile: '/run/keys/u' } },
    },
  })
  assert.equal(spec.xoState.servers.a?.username, 'root')
  assert.equal(spec.xoState.servers.a?.enabled, true)
  assert.equal(spec.xoState.users['a@b.c']?.permission, 'none')
  assert.deepEqual(spec.xoState.acls, [])
})

test('a secret inline in a plugin configuration is refused, naming the field', () => {
  assert.deepEqual(
    problems({ plugins: { 'auth-ldap': { configuration: { bind: { dn: 'x', password: 'hunter2' } } } } }),
    [
      'xoState.plugins.auth-ldap.configuration.bind.password: a secret is never inline: give it as { file = "/abs/path" }',
    ],
  )
  assert.deepEqual(
    problems({ plugins: { 'auth-ldap': { configuration: { bind: { password: { file: '/k' } } } } } }),
    [],
  )
  assert.match(
    problems({ plugins: { x: { configuration: { clientSecret: { file: 'rel' } } } } }).join(),
    /absolute/,
  )
})

test('users: a password file unless SSO, never both; not the web admin xoa manages', () => {
  assert.deepEqual(problems({ users: { 'a@b.c': {} } }), [
    'xoState.users.a@b.c.passwordFile: required (or sso = true)',
  ])
  assert.deepEqual(problems({ users: { 'a@b.c': { sso: true, passwordFile: '/k' } } }), [
    'xoState.users.a@b.c.passwordFile: an SSO user has no local password (got "/k")',
  ])
  assert.match(
    problems({ users: { 'admin@xoa.local': { passwordFile: '/k' } } }).join(),
    /xoState\.users\.admin@xoa\.local: is the web admin/,
  )
  assert.match(
    problems({ users: { 'not-an-email': { sso: true } } }).join(),
    /xoState\.users\.not-an-email: Invalid key/,
  )
})

test('remotes are typed; an unknown type or a stray field is refused', () => {
  assert.match(problems({ remotes: { r: { type: 'ftp', host: 'x' } } }).join(), /xoState\.remotes\.r/)
  assert.match(problems({ remotes: { r: { type: 'file', path: '/x', password: 'p' } } }).join(), /password/)
  assert.match(
    problems({
      remotes: { r: { type: 'smb', host: 'h', share: 'a\\b', username: 'u', passwordFile: '/k' } },
    }).join(),
    /share/,
  )
})

test('an ACL listed twice is refused', () => {
  const a = { subject: 'ops', object: 'x', action: 'viewer' }
  assert.deepEqual(problems({ acls: [a, a] }), ['xoState.acls[1]: listed twice'])
})
