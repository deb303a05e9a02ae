// The tmpfiles.d artefact: the same directories as the plan, and what real systemd-tmpfiles makes of it on disk.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { desired } from '../../src/plan/desired.ts'
import { renderTmpfiles, tmpfilesPath } from '../../src/render/tmpfiles.ts'
import { DEFAULT_RENDER_ENV } from '../../src/render/types.ts'
import { tempDir } from '../helpers.ts'
import { CASES } from './cases.ts'

const ACCOUNTS: Record<string, number> = { root: 0, xo: 990, xosvc: 991, 'redis-xo': 992 }

test('every directory apply creates (but the admin home) is a tmpfiles line with the same owner and mode', () => {
  for (const [name, make] of Object.entries(CASES)) {
    const spec = make()
    const text = renderTmpfiles(spec).content
    const planned = desired(spec, DEFAULT_RENDER_ENV).flatMap((r) =>
      r.kind === 'dir' && !r.path.startsWith('/home/') ? [r] : [],
    )
    const lines = text.split('\n').filter((l) => l.startsWith('d '))
    assert.equal(lines.length, planned.length, name)
    for (const d of planned)
      assert.ok(
        lines.includes(
          `d ${tmpfilesPath(d.path)} ${d.mode.toString(8).padStart(4, '0')} ${d.owner} ${d.group} - -`,
        ),
        `${name}: ${d.path} missing or different in\n${text}`,
      )
  }
})

test('quoting: blanks, quotes and specifiers survive systemd-tmpfiles', () => {
  assert.equal(tmpfilesPath('/srv/a'), '/srv/a')
  assert.equal(tmpfilesPath('/srv/xo state'), '"/srv/xo state"')
  assert.equal(tmpfilesPath('/srv/100%'), '/srv/100%%')
  assert.equal(tmpfilesPath('/srv/a"b\\c'), '"/srv/a\\"b\\\\c"')
})

for (const name of ['default', 'variant']) {
  test(`systemd-tmpfiles --create makes exactly those directories, owners and modes (${name})`, (t) => {
    const root = tempDir(t)
    mkdirSync(join(root, 'etc'))
    // tmpfiles resolves names in the --root's own account files.
    writeFileSync(
      join(root, 'etc', 'passwd'),
      Object.entries(ACCOUNTS)
        .map(([u, id]) => `${u}:x:${id}:${id}::/:/bin/sh\n`)
        .join(''),
    )
    writeFileSync(
      join(root, 'etc', 'group'),
      Object.entries(ACCOUNTS)
        .map(([g, id]) => `${g}:x:${id}:\n`)
        .join(''),
    )
    const spec = CASES[name]!()
    const conf = join(root, 'xoa.conf')
    writeFileSync(conf, renderTmpfiles(spec).content)
    const r = spawnSync('systemd-tmpfiles', ['--create', `--root=${root}`, conf], { encoding: 'utf8' })
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stderr, '', 'tmpfiles warned about a line')
    const planned = desired(spec, DEFAULT_RENDER_ENV).flatMap((r) =>
      r.kind === 'dir' && !r.path.startsWith('/home/') ? [r] : [],
    )
    assert.ok(planned.some((d) => d.path.endsWith('/secrets')))
    for (const d of planned) {
      const st = statSync(join(root, d.path))
      assert.ok(st.isDirectory(), d.path)
      assert.equal((st.mode & 0o7777).toString(8), d.mode.toString(8), `mode of ${d.path}`)
      assert.deepEqual([st.uid, st.gid], [ACCOUNTS[d.owner], ACCOUNTS[d.group]], `owner of ${d.path}`)
    }
    // The secrets and the state dir are root's, as on Debian: the service account cannot change them.
    const secrets = statSync(join(root, spec.xo.stateDir, 'secrets'))
    assert.deepEqual([secrets.uid, secrets.gid, secrets.mode & 0o777], [0, 0, 0o700])
    assert.equal(statSync(join(root, spec.xo.stateDir)).uid, 0)
  })
}
