// Issue 13, "done when": no string literal naming a tool's path is left in src/ outside the platform description,
// and no tool the platform describes is run by a bare name (through whatever PATH the process has).
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { test } from 'node:test'
import { TOOLS } from '../../src/platform/platform.ts'
import { REPO } from '../helpers.ts'

/** A quoted path in a system bin dir (/bin/sh is on every platform, so it may stay). */
const PATH_LITERAL = /(['"`])(\/(?:usr\/)?s?bin\/[^'"`\s:]+)/g
const names = TOOLS.map((t) => t.replaceAll('.', '\\.')).join('|')
/** execa('git', …), spawn("tar", …): a platform tool started by name. */
const BARE_RUN = new RegExp(
  `\\b(?:execa|execaSync|spawn|spawnSync|execFile|execFileSync)\\(\\s*(['"\`])(${names})\\1`,
  'g',
)

function toolLiterals(text: string): string[] {
  const found = [...text.matchAll(PATH_LITERAL)].map((m) => m[2]!).filter((p) => p !== '/bin/sh')
  return [...found, ...[...text.matchAll(BARE_RUN)].map((m) => `bare ${m[2]}`)]
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name)
    if (e.isDirectory()) return p === join(REPO, 'src', 'platform') ? [] : sources(p)
    return e.name.endsWith('.ts') ? [p] : []
  })
}

test('the matcher finds tool paths and bare tool runs, and lets /bin/sh and non-tool paths be', () => {
  assert.deepEqual(toolLiterals(`const x = '/usr/bin/setpriv'`), ['/usr/bin/setpriv'])
  assert.deepEqual(toolLiterals('shell: "/bin/bash",'), ['/bin/bash'])
  assert.deepEqual(toolLiterals('`/usr/sbin/mount.cifs -V`'), ['/usr/sbin/mount.cifs'])
  assert.deepEqual(toolLiterals(`['/sbin/mount.nfs']`), ['/sbin/mount.nfs'])
  assert.deepEqual(toolLiterals(`execa('systemctl', ['daemon-reload'])`), ['bare systemctl'])
  assert.deepEqual(toolLiterals(`spawn(\n  "mount.nfs4", [])`), ['bare mount.nfs4'])
  assert.deepEqual(toolLiterals(`spawn('/bin/sh', ['-c', x])`), [])
  assert.deepEqual(toolLiterals(`const XOA = '/usr/local/bin/xoa'; const d = '/usr/share/doc'`), [])
  assert.deepEqual(toolLiterals(`execa('getent', ['passwd', u]); execa(tool('git'), a)`), [])
})

test('src/ names no tool path and runs no platform tool by bare name outside src/platform', () => {
  const files = sources(join(REPO, 'src'))
  assert.ok(files.length > 100, `only ${files.length} source files found`)
  const hits = files.flatMap((f) =>
    toolLiterals(readFileSync(f, 'utf8')).map((l) => `${relative(REPO, f)}: ${l}`),
  )
  assert.deepEqual(hits, [], 'take these from the platform (src/platform, docs/platform.md)')
})
