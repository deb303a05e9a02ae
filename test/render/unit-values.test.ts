// Every directive that carries a spec value, rendered from a spec whose values hold specifiers (%Z is invalid, %n
// would silently expand), spaces, quotes, backslashes and `$`: the real `systemd-analyze verify` resolves no
// specifier in them (it warns "Failed to resolve specifiers" otherwise), and reading each line back the way
// systemd.syntax(7) says — words split on whitespace, C-style unquoting, `%%` → `%` — gives exactly the spec's
// value. What cannot be written safely is refused by the schema, naming the field.
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { DEFAULT_RENDER_ENV } from '../../src/render/types.ts'
import { validateSpec } from '../../src/spec/load.ts'
import { statePaths } from '../../src/spec/paths.ts'
import type { SpecInput } from '../../src/spec/schema.ts'
import { tempDir, xoa } from '../helpers.ts'
import { verify, verifyRoot } from './verify-root.ts'

const HOSTILE: SpecInput = {
  xo: {
    stateDir: '/srv/st %Z a;b$c',
    dataDir: `/srv/data %n "q" 'r' \\s`,
    tempDir: '/srv/tmp%%x',
    mountsDir: '/srv/m $HOME;x',
    extraServerEnv: { TRICKY: 'a%Zb "c" \\d $e %n' },
  },
  redis: { socket: '/run/redis %Z xo sudo/r.sock', dir: '/var/lib/redis %n xo' },
  mounts: { mode: 'broker', brokerSocket: '/run/xoa %Z mountd/m.sock' },
  updates: { schedule: 'Sun 03:00', channel: 'stable' },
}

/** systemd's specifier unescaping; a lone % left over would be a specifier systemd expands. */
function unspecify(s: string): string {
  assert.doesNotMatch(s.replaceAll('%%', ''), /%/, `an unescaped specifier in ${JSON.stringify(s)}`)
  return s.replaceAll('%%', '%')
}

/** A value split into words as systemd does (extract_first_word with EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE). */
function words(value: string): string[] {
  const out: string[] = []
  let i = 0
  while (i < value.length) {
    while (i < value.length && /\s/.test(value[i]!)) i++
    if (i >= value.length) break
    let w = ''
    let quote: string | undefined
    for (; i < value.length; i++) {
      const c = value[i]!
      if (c === '\\') {
        w += value[++i] ?? ''
        continue
      }
      if (quote) {
        if (c === quote) quote = undefined
        else w += c
      } else if (c === '"' || c === "'") quote = c
      else if (/\s/.test(c)) break
      else w += c
    }
    assert.equal(quote, undefined, `unterminated quote in ${value}`)
    out.push(unspecify(w))
  }
  return out
}

/** The values of `key` in `unit`, each as systemd reads it: a list of words, or the whole rest of the line. */
function values(unit: string, key: string, kind: Kind): (string[] | string)[] {
  return [...unit.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) =>
    kind === 'line' ? unspecify(m[1]!) : kind === 'words' ? words(m[1]!) : words(m[1]!).map(undollar),
  )
}

/** ExecStart= also expands $VAR and ${VAR}: a literal dollar is `$$`. */
function undollar(w: string): string {
  assert.doesNotMatch(w.replaceAll('$$', ''), /\$/, `an unescaped $ in ${JSON.stringify(w)}`)
  return w.replaceAll('$$', '$')
}

type Kind = 'words' | 'exec' | 'line'

test('every directive carrying a spec value: systemd resolves no specifier, and reads back the spec value', (t) => {
  const s = validateSpec(HOSTILE)
  const p = statePaths(s)
  const env = DEFAULT_RENDER_ENV
  const xoaCmd = (c: string) => [...env.xoaCommand, c, '--spec', env.specPath]
  const { root, units } = verifyRoot(t, s)
  const unit = (name: string) => readFileSync(units.get(name)!, 'utf8')

  // [unit, directive, how systemd reads it, what it must read]
  const table: [string, string, Kind, (string[] | string)[]][] = [
    ['redis-xo.service', 'RuntimeDirectory', 'words', [['redis %Z xo sudo']]],
    ['redis-xo.service', 'StateDirectory', 'words', [['redis %n xo']]],
    ['xo-server.service', 'User', 'line', [s.service.user]],
    ['xo-server.service', 'Group', 'line', [s.service.group]],
    [
      'xo-server.service',
      'ReadWritePaths',
      'words',
      [[s.xo.dataDir, s.xo.tempDir, s.xo.mountsDir, p.serverConfigHome, p.logs]],
    ],
    ['xo-server.service', 'WorkingDirectory', 'line', [join(p.current, 'xo', 'packages', 'xo-server')]],
    ['xo-server.service', 'ExecStart', 'exec', [[p.currentNode, p.currentServer]]],
    [
      'xo-server.service',
      'Environment',
      'words',
      [
        [`PATH=${p.shimDir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`],
        [`HOME=${join(s.xo.stateDir, 'home')}`],
        [`XDG_CONFIG_HOME=${p.serverConfigHome}`],
        [`TMPDIR=${s.xo.tempDir}`],
        ['NODE_ENV=production'],
      ],
    ],
    ['xo-bootstrap.service', 'ExecStart', 'exec', [xoaCmd('bootstrap')]],
    ['xo-build.service', 'ExecStart', 'exec', [xoaCmd('build')]],
    [
      'xo-build.service',
      'Environment',
      'words',
      [[`HOME=${join(s.xo.stateDir, 'home')}`], ['XOA_PRIVATE_MOUNTS=1']],
    ],
    ['xo-build.service', 'ReadWritePaths', 'words', [[s.xo.stateDir]]],
    ['xoa-update.service', 'Description', 'line', ['Xen Orchestra scheduled upgrade (channel stable)']],
    ['xoa-update.service', 'ExecStart', 'exec', [xoaCmd('upgrade')]],
    ['xoa-update.timer', 'Description', 'line', ['Xen Orchestra scheduled upgrade (Sun 03:00)']],
    ['xoa-update.timer', 'OnCalendar', 'line', ['Sun 03:00']],
    ['xoa-mountd.socket', 'ListenStream', 'line', [s.mounts.brokerSocket]],
    ['xoa-mountd.socket', 'SocketGroup', 'line', [s.service.group]],
    [
      'xoa-mountd.service',
      'ExecStart',
      'words',
      [[...env.xoaCommand, 'broker', 'serve', '--spec', env.specPath]],
    ],
  ]
  for (const [name, key, kind, want] of table)
    assert.deepEqual(values(unit(name), key, kind), want, `${name} ${key}=`)

  for (const name of new Set(table.map((r) => r[0]))) {
    const r = verify(root, name)
    assert.equal(r.status, 0, `${name}:\n${r.stdout}${r.stderr}`)
    assert.doesNotMatch(r.stderr, /specifier/i, `${name}: ${r.stderr}`)
    assert.equal(r.stderr.trim(), '', `${name} has warnings:\n${r.stderr}`)
  }
})

test('the reading is a real check: an unescaped specifier or an unquoted space in a list is caught', (t) => {
  const { root, units } = verifyRoot(t, validateSpec({}))
  const f = units.get('redis-xo.service')!
  const text = readFileSync(f, 'utf8').replace(/^RuntimeDirectory=.*$/m, 'RuntimeDirectory=redis xo sudo %Z')
  assert.throws(() => values(text, 'RuntimeDirectory', 'words'), /unescaped specifier/)
  assert.deepEqual(words('redis xo sudo'), ['redis', 'xo', 'sudo'])
  writeFileSync(f, text)
  assert.match(verify(root, 'redis-xo.service').stderr, /Failed to resolve .*specifiers/)
})

test('values no unit can carry are refused by the schema, naming the field; xoa validate says so', (t) => {
  const refused: [SpecInput, RegExp][] = [
    [{ redis: { socket: '/run/redis:xo/r.sock' } }, /redis\.socket: must not contain ":"/],
    [{ redis: { dir: '/var/lib/redis\\xo' } }, /redis\.dir: must not contain ":" or "\\"/],
    [{ updates: { schedule: 'daily %n' } }, /updates\.schedule: must be a systemd calendar expression/],
    [{ updates: { schedule: 'Sun "03:00"' } }, /updates\.schedule: must be a systemd calendar expression/],
    [{ xo: { dataDir: '/srv//data' } }, /xo\.dataDir: must be normalised/],
    [{ xo: { mountsDir: '/srv/./m' } }, /xo\.mountsDir: must be normalised/],
    [{ xo: { stateDir: '/srv/a:b' } }, /xo\.stateDir: must not contain ":", quotes/],
    [{ xo: { stateDir: "/srv/a'b" } }, /xo\.stateDir: must not contain ":", quotes/],
    [{ xo: { stateDir: '/srv/a\\b' } }, /xo\.stateDir: must not contain ":", quotes/],
    [{ service: { user: 'x o' } }, /service\.user: must be a valid Unix user/],
  ]
  for (const [doc, why] of refused) assert.throws(() => validateSpec(doc), why, JSON.stringify(doc))
  const file = join(tempDir(t, 'xoa-unit-values-'), 'xoa.json')
  writeFileSync(file, JSON.stringify({ redis: { dir: '/var/lib/a:b' } }))
  const r = xoa(['validate', '--spec', file])
  assert.notEqual(r.status, 0)
  assert.match(r.stdout + r.stderr, /redis\.dir/)
})
