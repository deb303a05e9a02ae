// `xoa state plan|apply` output, in-process against the in-memory XO: the + ~ - = ! lines, --json, exit codes
// of what fails, and never a secret on stdout.
import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { type Io, stateApply, statePlan } from '../../src/cli/state.ts'
import { validateSpec } from '../../src/spec/load.ts'
import { EXIT, type XoaError } from '../../src/util/errors.ts'
import { probeLines, probeXoState } from '../../src/xo-state/connect.ts'
import { xoPlanLines } from '../../src/xo-state/format.ts'
import { tempDir } from '../helpers.ts'
import { FakeXo, stockPlugins } from './fake-xo.ts'

/** What `fn` printed (through the commands' Io). */
async function stdout(fn: (io: Io) => Promise<unknown>): Promise<string> {
  let out = ''
  await fn({ say: (l) => (out += `${l}\n`), printJson: (v) => (out += `${JSON.stringify(v, null, 2)}\n`) })
  return out
}

function setup(t: { after(fn: () => void): void }) {
  const dir = tempDir(t)
  const secret = (name: string, value: string) => {
    const p = join(dir, name)
    writeFileSync(p, `${value}\n`, { mode: 0o600 })
    return p
  }
  const adminFile = secret('admin', 'admin-S3cret')
  const spec = validateSpec({
    xo: { stateDir: join(dir, 'state') },
    webAdmin: { passwordFile: adminFile },
    xoState: {
      plugins: { 'backup-reports': { enable: false } },
      servers: { pool: { host: '192.0.2.1', passwordFile: secret('pool', 'pool-S3cret') } },
      users: { 'u@example.org': { permission: 'read', passwordFile: secret('u', 'user-S3cret') } },
    },
  })
  mkdirSync(join(dir, 'state'), { recursive: true })
  const xo = new FakeXo(stockPlugins())
  const opened: { email: string; password: string }[] = []
  const open = async (_s: unknown, admin: { email: string; password: string }) => {
    opened.push(admin)
    return xo
  }
  return { spec, xo, open, opened }
}

test('state plan prints one line per object and a summary; --json has the same shape as file plans', async (t) => {
  const { spec, xo, open, opened } = setup(t)
  const text = await stdout((io) => statePlan(spec, {}, open, io))
  assert.equal(
    text,
    [
      '~ xo-plugin:backup-reports (unload, autoload off)',
      '+ xo-server:pool (root@192.0.2.1, enabled)',
      '+ xo-user:u@example.org (permission read)',
      'XO state: 1 to create, 1 to change, 0 to delete, 0 unchanged, 0 skipped.',
      '',
    ]
      .join('\n')
      .replace('1 to create', '2 to create'),
  )
  assert.deepEqual(
    opened,
    [{ email: 'admin@xoa.local', password: 'admin-S3cret' }],
    'signed in as the web admin',
  )
  assert.ok(
    xo.calls.some((c) => c.method === 'close'),
    'the connection is closed',
  )
  const json = JSON.parse(await stdout((io) => statePlan(spec, { json: true }, open, io)))
  assert.equal(json.changes, 3)
  assert.deepEqual(json.resources[1], {
    action: 'create',
    symbol: '+',
    kind: 'xo-server',
    name: 'pool',
    details: ['root@192.0.2.1', 'enabled'],
  })
  assert.deepEqual(xo.changes(), [], 'plan changed nothing')
})

test('state apply says what it did, then a second apply changes nothing; no secret on stdout', async (t) => {
  const { spec, xo, open } = setup(t)
  const first = await stdout((io) => stateApply(spec, { yes: true }, open, io))
  assert.match(first, /^XO's configuration before this run: .*\/backups\/xo-config-.*\.json$/m)
  assert.match(first, /^\+ xo-user:u@example\.org/m)
  assert.match(first, /XO state applied: 2 created, 1 changed, 0 deleted, 0 unchanged, 0 skipped\./)
  for (const s of ['pool-S3cret', 'user-S3cret', 'admin-S3cret']) assert.ok(!first.includes(s))
  const second = await stdout((io) => stateApply(spec, { yes: true }, open, io))
  assert.equal(second, 'XO state applied: 0 created, 0 changed, 0 deleted, 3 unchanged, 0 skipped.\n')
  assert.equal(xo.users_[0]?.password, 'user-S3cret')
})

test('XO unreachable: state plan fails (exit 1) saying so; xoa plan notes it and goes on', async (t) => {
  const { spec } = setup(t)
  const refuse = async () => {
    throw new Error('connect ECONNREFUSED 127.0.0.1:443')
  }
  await assert.rejects(statePlan(spec, {}, refuse), (e: XoaError) => {
    assert.equal(e.exitCode, EXIT.failed)
    assert.match(e.message, /^XO is not reachable: connect ECONNREFUSED/)
    return true
  })
  const probe = await probeXoState(spec, refuse)
  assert.deepEqual(probeLines(probe, xoPlanLines), [
    'XO state: not checked (connect ECONNREFUSED 127.0.0.1:443)',
  ])
})

test('a spec problem only XO can see (a plugin it lacks) is a usage error (exit 2) in plan too', async (t) => {
  const { spec, open } = setup(t)
  spec.xoState.plugins['auth-nope'] = { enable: true }
  await assert.rejects(probeXoState(spec, open), (e: XoaError) => e.exitCode === EXIT.usage)
})

test('nothing declared and nothing owned: no connection at all', async (t) => {
  const dir = tempDir(t)
  const spec = validateSpec({ xo: { stateDir: join(dir, 'state') } })
  const open = async () => {
    throw new Error('must not connect')
  }
  assert.match(await stdout((io) => stateApply(spec, { yes: true }, open, io)), /nothing to do/)
  assert.deepEqual(await probeXoState(spec, open), { status: 'none' })
})
