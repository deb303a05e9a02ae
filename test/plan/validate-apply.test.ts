// The apply engine with the real validators: a file that fails validation installs nothing of its run.
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { SafeDir } from '../../src/fs/safe-dir.ts'
import { apply } from '../../src/plan/apply.ts'
import { detectHost } from '../../src/plan/host.ts'
import type { Resource } from '../../src/plan/resources.ts'
import { validateCandidates } from '../../src/plan/validate.ts'
import type { RenderedFile, Validator } from '../../src/render/types.ts'
import { XoaError } from '../../src/util/errors.ts'
import { tempDir } from '../helpers.ts'
import { makeTargetRoot } from './target-root.ts'

const file = (path: string, content: string, validate?: Validator, mode = 0o644): Resource => ({
  kind: 'file',
  file: { path, content, mode, owner: 'root', group: 'root', validate } satisfies RenderedFile,
})

const UNIT_OK =
  '[Unit]\nDescription=demo\n\n[Service]\nExecStart=/bin/true\n\n[Install]\nWantedBy=multi-user.target\n'

/** For each validator: a file it accepts and one it must reject. */
const CASES: { validate: Validator; path: string; good: string; bad: string; says: RegExp }[] = [
  {
    validate: 'visudo',
    path: '/etc/sudoers.d/demo',
    good: 'demo ALL=(root) NOPASSWD: /usr/bin/true\n',
    bad: 'demo ALL=(root NOPASSWD: /usr/bin/true\n',
    says: /visudo -cf: .*syntax error/s,
  },
  {
    validate: 'systemd-unit',
    path: '/etc/systemd/system/demo.service',
    good: UNIT_OK,
    bad: UNIT_OK.replace('[Service]', '[Service]\nExecStrat=/bin/true'),
    says: /Unknown key 'ExecStrat'/,
  },
  {
    validate: 'sshd',
    path: '/etc/ssh/sshd_config.d/demo.conf',
    good: 'PasswordAuthentication no\n',
    bad: 'PasswordAuthentication maybe\n',
    says: /sshd -t: .*maybe/s,
  },
  {
    validate: 'toml',
    path: '/etc/xo-server/demo.toml',
    good: '[http]\nredirectToHttps = true\n',
    bad: '[http\nredirectToHttps = true\n',
    says: /TOML does not parse/,
  },
  {
    validate: 'redis',
    path: '/etc/xoa/demo.conf',
    good: 'port 0\nunixsocket /run/redis-xo/redis.sock\n',
    bad: 'port 0\nunixsocket "/run/redis-xo/redis.sock\n',
    says: /line 2 is not a redis directive/,
  },
]

for (const c of CASES) {
  test(`${c.validate}: a failing file leaves the installed one and the rest of the run untouched`, async (t) => {
    const root = makeTargetRoot(tempDir(t))
    const host = detectHost(root)
    await apply(host, [file(c.path, c.good, c.validate)], { providedLater: [] })
    const installed = join(root, c.path)
    assert.equal(readFileSync(installed, 'utf8'), c.good)

    const other = '/etc/xoa/other.txt'
    await assert.rejects(
      apply(
        host,
        [
          { kind: 'dir', path: '/var/lib/demo', owner: 'root', group: 'root', mode: 0o750 },
          file(other, 'new\n'),
          file(c.path, c.bad, c.validate),
        ],
        {
          providedLater: [],
        },
      ),
      (e: unknown) =>
        e instanceof XoaError && e.exitCode === 1 && e.message.includes(c.path) && c.says.test(e.message),
    )
    assert.equal(readFileSync(installed, 'utf8'), c.good)
    assert.throws(() => statSync(join(root, other)), { code: 'ENOENT' })
    assert.throws(() => statSync(join(root, 'var/lib/demo')), { code: 'ENOENT' })
    // No temp file left next to the target either.
    assert.deepEqual(
      readdirSync(join(root, c.path, '..')).filter((f) => f.includes('.xoa-')),
      [],
    )
  })
}

test('a unit whose ExecStart the build provides later verifies; any other missing binary does not', async (t) => {
  const root = makeTargetRoot(tempDir(t))
  const unit = UNIT_OK.replace('/bin/true', '/opt/later/bin/server')
  const res = [file('/etc/systemd/system/later.service', unit, 'systemd-unit')]
  await assert.rejects(
    apply(detectHost(root), res, { providedLater: [] }),
    /\/opt\/later\/bin\/server is not executable/,
  )
  await apply(detectHost(root), res, { providedLater: ['/opt/later'] })
  assert.equal(readFileSync(join(root, 'etc/systemd/system/later.service'), 'utf8'), unit)
})

test('files are written with their owner and mode; symlinks are created and re-pointed', async (t) => {
  const root = makeTargetRoot(tempDir(t))
  const host = detectHost(root)
  const res: Resource[] = [
    { kind: 'group', name: 'demo', system: true },
    file('/etc/xoa/a.toml', 'a = 1\n', 'toml', 0o640),
    { kind: 'symlink', path: '/var/lib/demo/current', target: 'releases/one' },
  ]
  ;(res[1] as { file: RenderedFile }).file.group = 'demo'
  const first = await apply(host, res, { providedLater: [] })
  assert.deepEqual(
    first.map((c) => c.action),
    ['create', 'create', 'create'],
  )
  const st = statSync(join(root, 'etc/xoa/a.toml'))
  assert.equal(st.mode & 0o7777, 0o640)
  assert.equal(st.uid, 0)
  assert.match(readFileSync(join(root, 'etc/group'), 'utf8'), new RegExp(`^demo:x:${st.gid}:`, 'm'))
  assert.equal(readlinkSync(join(root, 'var/lib/demo/current')), 'releases/one')

  res[2] = { kind: 'symlink', path: '/var/lib/demo/current', target: 'releases/two' }
  const second = await apply(host, res, { providedLater: [] })
  assert.deepEqual(
    second.map((c) => `${c.action} ${c.details.join(',')}`),
    ['ok ', 'ok ', 'change target releases/one → releases/two'],
  )
  assert.equal(readlinkSync(join(root, 'var/lib/demo/current')), 'releases/two')
})

test('an existing service account with a shell and a password is converged: nologin, locked, exact groups', async (t) => {
  const root = makeTargetRoot(tempDir(t))
  const etc = (f: string) => join(root, 'etc', f)
  writeFileSync(etc('passwd'), `${readFileSync(etc('passwd'), 'utf8')}xo:x:990:990::/home/xo:/bin/bash\n`)
  writeFileSync(
    etc('group'),
    `${readFileSync(etc('group'), 'utf8')}xo:x:990:\nsudo:x:27:xo\nredis-xo:x:991:\n`,
  )
  writeFileSync(
    etc('shadow'),
    `${readFileSync(etc('shadow'), 'utf8')}xo:$6$salt$c2VjcmV0aGFzaA:19000:0:99999:7:::\n`,
  )
  writeFileSync(etc('gshadow'), `${readFileSync(etc('gshadow'), 'utf8')}xo:!::\nsudo:*::xo\nredis-xo:!::\n`)
  const res: Resource[] = [
    { kind: 'group', name: 'xo', system: true },
    { kind: 'group', name: 'redis-xo', system: true },
    {
      kind: 'user',
      name: 'xo',
      system: true,
      group: 'xo',
      groups: ['redis-xo'],
      home: '/var/lib/xo',
      createHome: false,
      shell: '/usr/sbin/nologin',
      comment: 'Xen Orchestra',
    },
  ]
  const first = await apply(detectHost(root), res, { providedLater: [] })
  assert.deepEqual(first[2]?.details, [
    'home /home/xo → /var/lib/xo',
    'shell /bin/bash → /usr/sbin/nologin',
    'groups sudo → redis-xo',
    'lock password',
  ])
  assert.match(
    readFileSync(etc('passwd'), 'utf8'),
    /^xo:x:990:990:[^:]*:\/var\/lib\/xo:\/usr\/sbin\/nologin$/m,
  )
  assert.match(readFileSync(etc('shadow'), 'utf8'), /^xo:!/m)
  assert.match(readFileSync(etc('group'), 'utf8'), /^sudo:x:27:$/m)
  assert.match(readFileSync(etc('group'), 'utf8'), /^redis-xo:x:991:xo$/m)
  const second = await apply(detectHost(root), res, { providedLater: [] })
  assert.deepEqual(
    second.map((c) => c.action),
    ['ok', 'ok', 'ok'],
  )
})

test('units validated together: one bad unit among good ones is the one named', async () => {
  const units = [
    { path: '/etc/systemd/system/a.service', content: UNIT_OK, validate: 'systemd-unit' as const },
    {
      path: '/etc/systemd/system/b.service',
      content: UNIT_OK.replace('[Unit]', '[Unit]\nRequires=a.service'),
      validate: 'systemd-unit' as const,
    },
    {
      path: '/etc/systemd/system/c.service',
      content: UNIT_OK.replace('ExecStart=', 'ExecStart=relative/'),
      validate: 'systemd-unit' as const,
    },
  ]
  const ctx = { units, providedLater: [] }
  assert.deepEqual([...(await validateCandidates(units.slice(0, 2), ctx)).keys()], [])
  const problems = await validateCandidates(units, ctx)
  assert.deepEqual([...problems.keys()], ['/etc/systemd/system/c.service'])
})

test('owner and mode are never set through a symlink swapped in for a declared path', async (t) => {
  const dir = tempDir(t)
  const victim = join(dir, 'shadow')
  writeFileSync(victim, 'secret\n', { mode: 0o600 })
  const link = join(dir, 'config')
  symlinkSync(victim, link)
  const parent = await SafeDir.open(dir)
  t.after(() => parent.close())
  await assert.rejects(
    parent.setMeta('config', { uid: 65534, gid: 65534, mode: 0o666 }),
    /config: is a symlink/,
  )
  const st = statSync(victim)
  assert.deepEqual([st.uid, st.mode & 0o7777], [0, 0o600])
})
