// The reconcile engine through the real client against the stand-in XO.
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { validateSpec } from '../../src/spec/load.ts'
import { openXoApi } from '../../src/xo-state/client.ts'
import { xoChangeLine, xoDrift } from '../../src/xo-state/format.ts'
import { applyXoStateRun, planXoState } from '../../src/xo-state/reconcile.ts'
import { admin, startStandIn } from './stand-in.ts'

test('engine + client + stand-in: apply twice, second zero; remove one, change one, hand-made stays', async (t) => {
  const xo = await startStandIn(t)
  const secret = (n: string, v: string) => {
    const p = join(xo.dir, n)
    writeFileSync(p, v, { mode: 0o600 })
    return p
  }
  const base = JSON.parse(JSON.stringify(xo.spec))
  const state = {
    plugins: {
      'transport-email': {
        enable: true,
        configuration: {
          from: { address: 'xo@example.test' },
          transport: {
            host: '127.0.0.1',
            port: 2525,
            user: 'xo',
            password: { file: secret('smtp', 'smtp-S3cret') },
          },
        },
      },
    },
    servers: {
      pool: { host: '127.0.0.1:1', passwordFile: secret('pool', 'pool-S3cret'), allowUnauthorized: true },
    },
    remotes: {
      local: { type: 'file', path: join(xo.dir, 'backups') },
      nfs: { type: 'nfs', host: 'nas.example.test', path: '/export/xo', enabled: false },
    },
    users: { 'u@example.test': { permission: 'read', passwordFile: secret('u', 'user-S3cret') } },
    groups: { ops: { members: ['u@example.test'] } },
    acls: [{ subject: 'ops', object: 'pool-uuid-1', action: 'viewer' }],
  }
  const spec = (s: unknown) => validateSpec({ ...base, xoState: s })
  const run = async (s: unknown) => {
    const api = await openXoApi(spec(s), admin)
    try {
      return await applyXoStateRun(spec(s), api)
    } finally {
      await api.close()
    }
  }
  const plan = async (s: unknown) => {
    const api = await openXoApi(spec(s), admin)
    try {
      return (await planXoState(spec(s), api)).changes
    } finally {
      await api.close()
    }
  }
  const first = await run(state)
  assert.equal(first.filter((c) => c.action !== 'ok').length, 7, first.map(xoChangeLine).join('\n'))
  const second = await plan(state)
  assert.equal(
    xoDrift(second),
    0,
    second
      .filter((c) => c.action !== 'ok')
      .map(xoChangeLine)
      .join('\n'),
  )
  // hand-made
  const api = await openXoApi(spec(state), admin)
  await api.createUser({ email: 'hand@example.test', password: 'x', permission: 'none' })
  await api.close()
  const { groups: _g, acls: _a, ...rest } = state
  const smaller = {
    ...rest,
    users: {
      'u@example.test': { permission: 'write', passwordFile: state.users['u@example.test'].passwordFile },
    },
  }
  const third = await run(smaller)
  const done = third
    .filter((c) => c.action !== 'ok')
    .map((c) => `${c.action} ${c.id}`)
    .sort()
  assert.deepEqual(
    done,
    ['change user:u@example.test', 'delete acl:ops viewer on pool-uuid-1', 'delete group:ops'].sort(),
  )
  const fourth = await plan(smaller)
  assert.equal(
    xoDrift(fourth),
    0,
    fourth
      .filter((c) => c.action !== 'ok')
      .map(xoChangeLine)
      .join('\n'),
  )
  const api2 = await openXoApi(spec(smaller), admin)
  const users = (await api2.users()).map((u) => `${u.email}:${u.permission}`)
  const groups = await api2.groups()
  await api2.close()
  assert.ok(users.includes('hand@example.test:none'))
  assert.ok(users.includes('u@example.test:write'))
  assert.deepEqual(groups, [])
})
