// The pure core: spec → ordered resources, and desired vs observed → + ~ = ! x with the reason.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { desired } from '../../src/plan/desired.ts'
import { diff, lineDelta } from '../../src/plan/diff.ts'
import type { Observed } from '../../src/plan/observe.ts'
import { KIND_ORDER, type Resource, resourceId } from '../../src/plan/resources.ts'
import { DEFAULT_RENDER_ENV } from '../../src/render/types.ts'
import { validateSpec } from '../../src/spec/load.ts'

const spec = (doc: object = {}) => validateSpec(doc)
const ids = (rs: Resource[]) => rs.map(resourceId)

test('resources come in dependency order: packages, groups, users, dirs, files, secrets, symlinks, units', () => {
  const rs = desired(spec(), DEFAULT_RENDER_ENV)
  const order = rs.map((r) => KIND_ORDER.indexOf(r.kind))
  assert.deepEqual(
    order,
    [...order].sort((a, b) => a - b),
  )
  const dirs = rs.flatMap((r) => (r.kind === 'dir' ? [r.path] : []))
  dirs.forEach((d, i) => {
    for (const later of dirs.slice(i + 1))
      assert.ok(!d.startsWith(`${later}/`), `${later} must come before ${d}`)
  })
  assert.equal(new Set(ids(rs)).size, rs.length, 'no resource twice')
})

test('every owner and group a file or dir names is declared by the plan (or is root)', () => {
  for (const doc of [{}, { admin: { enable: false } }, { service: { user: 'xen', group: 'xen' } }]) {
    const rs = desired(spec(doc), DEFAULT_RENDER_ENV)
    const users = new Set(['root', ...rs.flatMap((r) => (r.kind === 'user' ? [r.name] : []))])
    const groups = new Set(['root', ...rs.flatMap((r) => (r.kind === 'group' ? [r.name] : []))])
    for (const r of rs) {
      const own = r.kind === 'file' ? r.file : r.kind === 'dir' || r.kind === 'secret' ? r : undefined
      if (!own) continue
      assert.ok(users.has(own.owner), `${resourceId(r)}: owner ${own.owner}`)
      assert.ok(groups.has(own.group), `${resourceId(r)}: group ${own.group}`)
    }
    for (const r of rs)
      if (r.kind === 'user')
        for (const g of [r.group, ...r.groups]) assert.ok(groups.has(g), `${r.name}: ${g}`)
  }
})

test('the spec decides which resources exist', () => {
  const all = ids(desired(spec(), DEFAULT_RENDER_ENV))
  assert.ok(all.includes('user xoa') && all.includes('dir /home/xoa/.ssh') && all.includes('dir /etc/ssl/xo'))
  for (const f of [
    '/var/lib/xo/secrets/admin-password',
    '/var/lib/xo/secrets/session-secret',
    '/etc/xo-server/config.z-secrets.toml',
    '/var/lib/xo/secrets/xo-server.env',
  ])
    assert.ok(all.includes(`secret ${f}`), f)
  const noAdmin = ids(desired(spec({ admin: { enable: false } }), DEFAULT_RENDER_ENV))
  for (const id of ['user xoa', 'group xoa', 'group sudo', 'dir /home/xoa', 'dir /home/xoa/.ssh'])
    assert.ok(!noAdmin.includes(id), id)
  const ownPassword = ids(desired(spec({ webAdmin: { passwordFile: '/etc/xoa/pw' } }), DEFAULT_RENDER_ENV))
  // The user's own file is shown (bootstrap reads it), never one under the state dir.
  assert.ok(ownPassword.includes('secret /etc/xoa/pw'))
  assert.ok(!ownPassword.includes('secret /var/lib/xo/secrets/admin-password'))
  assert.ok(
    !ids(desired(spec({ xo: { ssl: { enable: false } } }), DEFAULT_RENDER_ENV)).includes('dir /etc/ssl/xo'),
  )
  const moved = ids(desired(spec({ xo: { stateDir: '/srv/xo', dataDir: '/srv/data' } }), DEFAULT_RENDER_ENV))
  assert.ok(moved.includes('dir /srv/xo/releases') && moved.includes('dir /srv/data'))
})

const unit: Resource = {
  kind: 'unit',
  name: 'xo-server.service',
  enable: true,
  start: true,
  inputs: ['/etc/xo-server/config.toml'],
}
const config: Resource = {
  kind: 'file',
  file: { path: '/etc/xo-server/config.toml', content: 'a = 2\n', mode: 0o640, owner: 'root', group: 'xo' },
}
const fileState = (content: string): Observed => ({
  kind: 'path',
  state: { type: 'file', mode: 0o640, owner: 'root', group: 'xo', content },
})

test('units: a running unit restarts only when one of its inputs changed; a stopped one starts (live systemd)', () => {
  const live = { live: true, systemd: true }
  const running: Observed = { kind: 'unit', enabled: true, active: true }
  const [, changed] = diff([config, unit], [fileState('a = 1\n'), running], live)
  assert.deepEqual([changed?.action, changed?.steps], ['change', ['restart']])
  const [, same] = diff([config, unit], [fileState('a = 2\n'), running], live)
  assert.deepEqual([same?.action, same?.steps], ['ok', []])
  const [, stopped] = diff(
    [config, unit],
    [fileState('a = 2\n'), { kind: 'unit', enabled: false, active: false }],
    live,
  )
  assert.deepEqual([stopped?.action, stopped?.steps], ['create', ['enable', 'start']])
  // Under --root nothing runs: only enablement counts, and a changed input restarts nothing.
  const [, offline] = diff([config, unit], [fileState('a = 1\n'), { kind: 'unit', enabled: true }], {
    live: false,
    systemd: false,
  })
  assert.deepEqual([offline?.action, offline?.steps], ['ok', []])
})

test('accounts: what differs is said, and an unlocked password is locked', () => {
  const user: Resource = {
    kind: 'user',
    name: 'xo',
    system: true,
    group: 'xo',
    groups: ['redis-xo'],
    home: '/var/lib/xo',
    createHome: false,
    shell: '/usr/sbin/nologin',
    comment: '',
  }
  const seen: Observed = {
    kind: 'user',
    state: {
      uid: 998,
      home: '/var/lib/xo',
      shell: '/bin/bash',
      group: 'xo',
      groups: ['redis-xo', 'sudo'],
      locked: false,
    },
  }
  const [c] = diff([user], [seen], { live: false, systemd: false })
  assert.deepEqual(c?.details, [
    'shell /bin/bash → /usr/sbin/nologin',
    'groups redis-xo,sudo → redis-xo',
    'lock password',
  ])
  const [gone] = diff([user], [{ kind: 'user' }], { live: false, systemd: false })
  assert.equal(gone?.action, 'create')
})

test('accounts: ids the spec sets are created with, and an existing account with other ids is a conflict', () => {
  const rs = desired(spec({ service: { uid: 5000, gid: 5001 } }), DEFAULT_RENDER_ENV)
  const user = rs.find((r) => r.kind === 'user' && r.name === 'xo')
  const group = rs.find((r) => r.kind === 'group' && r.name === 'xo')
  const ctx = { live: false, systemd: false }
  const [u, g] = diff([user!, group!], [{ kind: 'user' }, { kind: 'group', exists: false }], ctx)
  assert.deepEqual([u?.action, g?.action], ['create', 'create'])
  assert.ok(u?.details.includes('uid 5000'), u?.details.join())
  assert.ok(g?.details.includes('gid 5001'), g?.details.join())
  const state = {
    uid: 998,
    home: '/var/lib/xo',
    shell: '/usr/sbin/nologin',
    group: 'xo',
    groups: ['redis-xo'],
  }
  const [cu, cg] = diff(
    [user!, group!],
    [
      { kind: 'user', state },
      { kind: 'group', exists: true, gid: 997 },
    ],
    ctx,
  )
  assert.equal(cu?.action, 'conflict')
  assert.match(cu?.details[0] ?? '', /uid 998, but service\.uid = 5000/)
  assert.equal(cg?.action, 'conflict')
  assert.match(cg?.details[0] ?? '', /gid 997, but service\.gid = 5001/)
  // The same ids: nothing to do.
  const [ok] = diff([group!], [{ kind: 'group', exists: true, gid: 5001 }], ctx)
  assert.equal(ok?.action, 'ok')
  // Without ids in the spec any id is fine.
  const plain = desired(spec(), DEFAULT_RENDER_ENV).find((r) => r.kind === 'group' && r.name === 'xo')
  assert.equal(diff([plain!], [{ kind: 'group', exists: true, gid: 997 }], ctx)[0]?.action, 'ok')
})

test('paths: owner, mode and content changes are named; a secret never shows content; wrong types conflict', () => {
  const ctx = { live: false, systemd: false }
  const [c] = diff(
    [config],
    [{ kind: 'path', state: { type: 'file', mode: 0o644, owner: 'xo', group: 'xo', content: 'a = 1\n' } }],
    ctx,
  )
  assert.deepEqual(c?.details, ['content +1 −1 lines', 'mode 0644 → 0640', 'owner xo:xo → root:xo'])
  assert.equal(c?.rewrite, true)
  const secretFile: Resource = {
    kind: 'file',
    file: {
      path: '/etc/xo-server/config.z-secrets.toml',
      content: 'x',
      mode: 0o640,
      owner: 'root',
      group: 'xo',
      secret: true,
    },
  }
  const [s] = diff([secretFile], [fileState('sessionSecret = "old"\n')], ctx)
  assert.deepEqual(s?.details, ['content (secret, not shown)'])
  const [x] = diff(
    [{ kind: 'dir', path: '/etc/xoa', owner: 'root', group: 'root', mode: 0o755 }],
    [fileState('')],
    ctx,
  )
  assert.equal(x?.action, 'conflict')
  const [pkg] = diff([{ kind: 'package', name: 'git' }], [{ kind: 'package', skip: 'skipped: --root' }], ctx)
  assert.deepEqual([pkg?.action, pkg?.details], ['skip', ['skipped: --root']])
})

test('lineDelta counts added and removed lines', () => {
  assert.equal(lineDelta('a\nb\nc\n', 'a\nc\nd\ne\n'), '+2 −1 lines')
  assert.equal(lineDelta('x\n', 'x\n'), '+0 −0 lines')
})
