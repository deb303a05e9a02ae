// `xoa up`'s XO-state step (src/run/xo-state-up.ts) and the retention of XO config exports.
import assert from 'node:assert/strict'
import { readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { reconcileAfterUp } from '../../src/run/xo-state-up.ts'
import { validateSpec } from '../../src/spec/load.ts'
import { statePaths } from '../../src/spec/paths.ts'
import { tempDir } from '../helpers.ts'
import { FakeXo } from './fake-xo.ts'

const admin = { email: 'admin@xoa.local', password: 'admin-S3cret' }

function setup(t: { after(fn: () => void): void }, keepBackups = 5) {
  const dir = tempDir(t)
  const pw = join(dir, 'u')
  writeFileSync(pw, 'user-S3cret\n', { mode: 0o600 })
  const spec = validateSpec({
    xo: { stateDir: join(dir, 'state') },
    updates: { keepBackups },
    xoState: { users: { 'u@example.org': { permission: 'read', passwordFile: pw } } },
  })
  return { spec, xo: new FakeXo() }
}

test('after health, up applies the state and logs each change and the summary', async (t) => {
  const { spec, xo } = setup(t)
  const log: string[] = []
  assert.equal(
    await reconcileAfterUp(
      spec,
      admin,
      (l) => log.push(l),
      async () => xo,
    ),
    true,
  )
  assert.equal(xo.users_.length, 1)
  assert.match(log.join('\n'), /^xoa \| \+ xo-user:u@example\.org \(permission read\)$/m)
  assert.match(log.join('\n'), /XO state applied: 1 created/)
  assert.ok(!log.join('\n').includes('S3cret'))
})

test('a failure is logged with the object and XO message; up goes on (false, not a throw)', async (t) => {
  const { spec, xo } = setup(t)
  xo.fail.createUser = new Error('too many users')
  const log: string[] = []
  assert.equal(
    await reconcileAfterUp(
      spec,
      admin,
      (l) => log.push(l),
      async () => xo,
    ),
    false,
  )
  assert.match(
    log.join('\n'),
    /XO state NOT applied: user:u@example\.org: XO refused to create it: too many users/,
  )
  const unreachable: string[] = []
  const refuse = async () => {
    throw new Error('ECONNREFUSED')
  }
  assert.equal(await reconcileAfterUp(spec, admin, (l) => unreachable.push(l), refuse), false)
  assert.match(unreachable.join('\n'), /XO state NOT applied: XO is not reachable: ECONNREFUSED/)
})

test('XO config exports: one per changing run, the newest updates.keepBackups kept', async (t) => {
  const { spec, xo } = setup(t, 2)
  for (const permission of ['read', 'write', 'admin', 'none'] as const) {
    // A changing run each time: the permission moves, so an export is saved before it.
    ;(spec.xoState.users['u@example.org'] as { permission: string }).permission = permission
    await reconcileAfterUp(
      spec,
      admin,
      () => {},
      async () => xo,
    )
    await new Promise((r) => setTimeout(r, 5))
  }
  const exports = readdirSync(statePaths(spec).backups).filter((n) => n.startsWith('xo-config-'))
  assert.equal(exports.length, 2)
  assert.equal(xo.calls.filter((c) => c.method === 'exportConfig').length, 4)
})
