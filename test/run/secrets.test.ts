// The secrets are made in one place (src/run/secrets.ts), by root at run time: the unit's bootstrap and `xoa up`
// share one session secret, a second run writes nothing, `{ file }` values are resolved into root-only files,
// and a bad file stops the run naming its field with nothing written. Real files, checked on disk.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import {
  chmodSync,
  chownSync,
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { parse as parseToml } from 'smol-toml'
import { hostLayout } from '../../src/host/layout.ts'
import { ensureSecrets } from '../../src/run/secrets.ts'
import { validateSpec } from '../../src/spec/load.ts'
import { tempDir, xoa } from '../helpers.ts'
import { makeTargetRoot } from '../plan/target-root.ts'

const NOGROUP = 65534
const asRoot = process.getuid?.() === 0

function setup(t: { after(fn: () => void): void }) {
  const root = tempDir(t, 'xoa-secrets-')
  chmodSync(root, 0o755)
  const given = join(root, 'given')
  mkdirSync(given, { mode: 0o700 })
  const secret = (name: string, value: string, mode = 0o600) => {
    const p = join(given, name)
    writeFileSync(p, `${value}\n`, { mode })
    chmodSync(p, mode)
    return p
  }
  const ldap = secret('ldap', 'ldap-bind-s3cret')
  const token = secret('token', 'api-t0ken-s3cret')
  const doc = {
    xo: {
      stateDir: join(root, 'state'),
      extraServerEnv: { DEBUG: 'xo:main', XO_TOKEN: { file: token } },
      settings: {
        authentication: { defaultTokenValidity: '30 days' },
        'auth-ldap': { uri: 'ldap://127.0.0.1', bind: { dn: 'cn=xo', password: { file: ldap } } },
      },
    },
    service: { user: 'nobody', group: 'nogroup' },
  }
  const spec = validateSpec(doc)
  return { root, given, secret, spec, ldap, token, state: join(root, 'state') }
}

/** Every file under `dir` with its inode, mtime, mode and content: "nothing changed" means equal snapshots. */
function snapshot(dir: string): Record<string, string> {
  if (!existsSync(dir)) return {}
  return Object.fromEntries(
    readdirSync(dir, { recursive: true })
      .map(String)
      .sort()
      .map((f) => {
        const st = statSync(join(dir, f))
        const body = st.isFile() ? readFileSync(join(dir, f), 'utf8') : 'dir'
        return [f, `${st.ino} ${st.mtimeMs} ${st.uid}:${st.gid} ${(st.mode & 0o7777).toString(8)} ${body}`]
      }),
  )
}

const sessionOf = (file: string) =>
  (parseToml(readFileSync(file, 'utf8')) as { http: { sessionSecret: string } }).http.sessionSecret

function meta(file: string) {
  const st = statSync(file)
  return [st.uid, st.gid, st.mode & 0o7777]
}

test('one session secret for the unit (systemd/NixOS layout) and xoa up; a second run writes nothing', async (t) => {
  const s = setup(t)
  const unit = await ensureSecrets(s.spec, 'nixos')
  assert.deepEqual(
    unit.outcomes.map((o) => o.outcome),
    ['created', 'created', 'created', 'created'],
  )
  const session = readFileSync(join(s.state, 'secrets', 'session-secret'), 'utf8')
  assert.ok(session.length >= 32)
  const unitFile = hostLayout(s.spec, 'nixos').xoSecrets
  assert.equal(sessionOf(unitFile), session)

  const up = await ensureSecrets(s.spec, 'foreground')
  const upFile = hostLayout(s.spec, 'foreground').xoSecrets
  assert.equal(sessionOf(upFile), session, 'xoa up serves the same session secret')
  assert.equal(up.adminPassword, unit.adminPassword, 'and signs in with the same generated password')

  const before = snapshot(s.state)
  const again = await ensureSecrets(s.spec, 'nixos')
  assert.deepEqual(
    again.outcomes.map((o) => o.outcome),
    ['same', 'same', 'same', 'same'],
  )
  assert.deepEqual(snapshot(s.state), before, 'inode, mtime, owner, mode and content all unchanged')

  // Owner and mode, as the description says (root writes root:<service group>; as a user, 0600 its own).
  const p = (f: string) => join(s.state, 'secrets', f)
  const rootOnly = asRoot ? [0, 0, 0o600] : meta(p('session-secret'))
  for (const f of ['admin-password', 'session-secret', 'xo-server.env'])
    assert.deepEqual(meta(p(f)), rootOnly, f)
  assert.deepEqual(meta(unitFile), asRoot ? [0, NOGROUP, 0o640] : rootOnly)
  assert.deepEqual(meta(join(s.state, 'secrets')).slice(2), [0o700])
})

test('{ file } values land in the root-only files, never in the rendered ones; a changed file is picked up', async (t) => {
  const s = setup(t)
  const r = await ensureSecrets(s.spec, 'nixos')
  assert.deepEqual(r.serverEnv, { XO_TOKEN: 'api-t0ken-s3cret' })
  const env = readFileSync(join(s.state, 'secrets', 'xo-server.env'), 'utf8')
  assert.match(env, /^XO_TOKEN="api-t0ken-s3cret"$/m)
  assert.doesNotMatch(env, /DEBUG/, 'plain values stay in the rendered /etc/xoa/xo-server.env')
  const conf = parseToml(readFileSync(hostLayout(s.spec, 'nixos').xoSecrets, 'utf8')) as {
    'auth-ldap': { uri?: string; bind: { password: string } }
  }
  assert.equal(conf['auth-ldap'].bind.password, 'ldap-bind-s3cret')
  assert.equal(conf['auth-ldap'].uri, undefined, 'only the secret leaves: the rest is config.toml')

  writeFileSync(s.token, 'rotated-t0ken\n')
  const next = await ensureSecrets(s.spec, 'nixos')
  assert.deepEqual(
    next.outcomes.map((o) => o.outcome),
    ['same', 'same', 'same', 'changed'],
  )
  assert.match(readFileSync(join(s.state, 'secrets', 'xo-server.env'), 'utf8'), /^XO_TOKEN="rotated-t0ken"$/m)
})

test('a bad secret file stops the run naming its field; nothing is written', async (t) => {
  const s = setup(t)
  await ensureSecrets(s.spec, 'nixos')
  writeFileSync(s.token, 'would-be-new\n')
  const before = snapshot(s.state)
  chmodSync(s.ldap, 0o644)
  await assert.rejects(ensureSecrets(s.spec, 'nixos'), {
    message: /^xo\.settings\.auth-ldap\.bind\.password: .*ldap is open to others \(mode 644\)/,
  })
  chmodSync(s.ldap, 0o600)
  rmSync(s.token)
  await assert.rejects(ensureSecrets(s.spec, 'nixos'), {
    message: /^xo\.extraServerEnv\.XO_TOKEN: cannot read .*token \(ENOENT\)/,
  })
  assert.deepEqual(snapshot(s.state), before)

  // On a fresh host too: not even the secrets dir is made.
  const fresh = setup(t)
  if (asRoot) chownSync(fresh.ldap, NOGROUP, NOGROUP)
  await assert.rejects(ensureSecrets(fresh.spec, 'nixos'), /xo\.settings\.auth-ldap\.bind\.password: /)
  if (asRoot) assert.equal(existsSync(fresh.state), false)
})

test('a declared webAdmin.passwordFile is read, never written; a short one is refused by field', async (t) => {
  const s = setup(t)
  const pw = s.secret('admin', 'declared-passw0rd')
  const spec = validateSpec({
    xo: { stateDir: s.state },
    webAdmin: { passwordFile: pw },
    service: { user: 'nobody', group: 'nogroup' },
  })
  const r = await ensureSecrets(spec, 'nixos')
  assert.equal(r.adminPassword, 'declared-passw0rd')
  assert.equal(r.outcomes[0]?.outcome, 'read')
  assert.equal(existsSync(join(s.state, 'secrets', 'admin-password')), false)
  writeFileSync(pw, 'short\n')
  await assert.rejects(ensureSecrets(spec, 'nixos'), {
    message: /^webAdmin\.passwordFile: .*at least 8 characters/,
  })
})

test('the session secret of an older xoa (apply or xoa up wrote config.z-secrets.toml) is kept', async (t) => {
  const s = setup(t)
  const file = hostLayout(s.spec, 'foreground').xoSecrets
  mkdirSync(join(file, '..'), { recursive: true })
  writeFileSync(file, '[http]\nsessionSecret = "legacy-session-secret-0123456789"\n', { mode: 0o600 })
  await ensureSecrets(s.spec, 'foreground')
  assert.equal(
    readFileSync(join(s.state, 'secrets', 'session-secret'), 'utf8'),
    'legacy-session-secret-0123456789',
  )
  assert.equal(sessionOf(file), 'legacy-session-secret-0123456789')
})

test('a hard link or symlink planted where a secret goes: the linked file is untouched', async (t) => {
  const s = setup(t)
  await ensureSecrets(s.spec, 'nixos')
  // A root-only file elsewhere (in the real attack: /etc/shadow), linked in place of the secret config, which
  // sits in the service account's XDG config home on NixOS and under `xoa up`.
  const outside = tempDir(t, 'xoa-outside-')
  const victim = join(outside, 'shadow')
  writeFileSync(victim, 'root only\n', { mode: 0o600 })
  const file = hostLayout(s.spec, 'nixos').xoSecrets
  rmSync(file)
  linkSync(victim, file)
  await ensureSecrets(s.spec, 'nixos').catch(() => undefined)
  assert.equal(readFileSync(victim, 'utf8'), 'root only\n')
  assert.deepEqual(meta(victim), [process.getuid?.(), process.getgid?.(), 0o600])

  rmSync(file, { force: true })
  spawnSync('ln', ['-s', victim, file])
  await ensureSecrets(s.spec, 'nixos')
  assert.equal(readFileSync(victim, 'utf8'), 'root only\n')
  assert.deepEqual(meta(victim), [process.getuid?.(), process.getgid?.(), 0o600])
  assert.ok(statSync(file).isFile() && sessionOf(file).length >= 32, 'the link was replaced by the file')
})

test('as the service account: the secret config is readable through the group, the rest not at all', async (t) => {
  if (!asRoot) return t.skip('needs root (setpriv to nobody)')
  const s = setup(t)
  await ensureSecrets(s.spec, 'nixos')
  chmodSync(s.state, 0o755)
  const cat = (uid: number, gid: number, f: string) =>
    spawnSync('setpriv', [`--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', 'cat', f], {
      encoding: 'utf8',
    })
  const conf = hostLayout(s.spec, 'nixos').xoSecrets
  // The parents are the service account's on NixOS and under `xoa up`; here, made by bootstrap, root's 0750.
  for (const d of [join(s.state, 'home'), join(s.state, 'home', '.config'), join(conf, '..')])
    chmodSync(d, 0o755)
  assert.equal(cat(NOGROUP, NOGROUP, conf).status, 0, 'positive control: xo-server reads its config')
  assert.notEqual(cat(12345, 12345, conf).status, 0, 'a stranger does not')
  // The files' own modes, not only the 0700 directory, keep them root's.
  chmodSync(join(s.state, 'secrets'), 0o755)
  for (const f of ['admin-password', 'session-secret', 'xo-server.env'])
    assert.notEqual(cat(NOGROUP, NOGROUP, join(s.state, 'secrets', f)).status, 0, f)
})

test('xoa render and xoa plan never read a { file }: no secret in their output, a missing file is no error', async (t) => {
  const s = setup(t)
  const specFile = join(s.root, 'xoa.json')
  const doc = {
    xo: {
      stateDir: s.state,
      extraServerEnv: { DEBUG: 'xo:main', XO_TOKEN: { file: s.token } },
      settings: { 'auth-ldap': { uri: 'ldap://127.0.0.1', bind: { password: { file: s.ldap } } } },
    },
  }
  writeFileSync(specFile, JSON.stringify(doc))
  const out = join(s.root, 'rendered')
  const r = xoa(['render', 'all', '--spec', specFile, '--out', out])
  assert.equal(r.status, 0, r.stderr)
  const rendered = readdirSync(out, { recursive: true })
    .map(String)
    .filter((f) => statSync(join(out, f)).isFile())
    .map((f) => readFileSync(join(out, f), 'utf8'))
    .join('\n')
  // The positive control: the references are named, so a changed one restarts xo-server.
  assert.match(
    rendered,
    new RegExp(`# auth-ldap\\.bind\\.password: from ${s.ldap}, in config\\.z-secrets\\.toml`),
  )
  assert.match(rendered, new RegExp(`# XO_TOKEN: from ${s.token}`))
  assert.match(rendered, /^DEBUG="xo:main"$/m)
  for (const v of ['ldap-bind-s3cret', 'api-t0ken-s3cret']) assert.ok(!rendered.includes(v), v)

  // Unreadable to everyone (the files are gone): render and plan do not care, they never open them.
  rmSync(s.given, { recursive: true })
  assert.equal(xoa(['render', 'all', '--spec', specFile, '--out', join(s.root, 'again')]).status, 0)
  const root = makeTargetRoot(tempDir(t))
  const plan = xoa(['plan', '--spec', specFile, '--root', root])
  assert.equal(plan.status, 0, plan.stderr)
  assert.match(
    plan.stdout,
    /^= secret .*\/secrets\/xo-server\.env \(managed at run time by xoa bootstrap: xo-server's secret environment \(1 xo\.extraServerEnv value\(s\) from files\)/m,
  )
})
