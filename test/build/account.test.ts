// Upstream's build scripts (yarn install runs every dependency's install script) never run as root: as root,
// xoa builds as the service account and then hands the release to root, read-only for everyone else.
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { createFixture } from '../fixtures/monorepo.ts'
import { tempDir, XOA_BIN } from '../helpers.ts'
import { runtimeEnv } from './helpers.ts'

test('as root, install and build run as the service account; the release ends root-owned and read-only', (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root')
  const dir = tempDir(t, 'xoa-build-account-')
  chmodSync(dir, 0o755) // nobody must reach the checkout and the caches
  const src = join(dir, 'src')
  const rev = createFixture(src)
  const spec = join(dir, 'spec.json')
  writeFileSync(
    spec,
    JSON.stringify({
      xo: { stateDir: join(dir, 'state') },
      source: { url: src, rev },
      service: { user: 'nobody', group: 'nogroup' },
    }),
  )
  // With the unit's UMask=0027: root's new dirs are then closed to others, the account included.
  const r = spawnSync(
    'sh',
    ['-c', 'umask 027 && exec "$0" "$1" build --spec "$2"', process.execPath, XOA_BIN, spec],
    {
      env: { ...process.env, ...runtimeEnv, NO_COLOR: '1' },
      encoding: 'utf8',
    },
  )
  assert.equal(r.status, 0, r.stdout + r.stderr)
  const logs = join(dir, 'state', 'logs')
  const log = readdirSync(logs)
    .map((f) => readFileSync(join(logs, f), 'utf8'))
    .join('\n')
  assert.match(log, /install and build run as nobody, not root/)
  const uid = execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim()
  assert.match(log, new RegExp(`building xo-server at \\w+ with node v\\S+ as uid ${uid}\\b`))

  const release = join(dir, 'state', 'current', 'xo')
  const cli = join(release, 'packages', 'xo-server', 'dist', 'cli.mjs')
  assert.equal(statSync(cli).uid, 0)
  // Nothing in the release is writable by anyone but root (symlinks aside: their mode means nothing).
  const writable = execFileSync(
    'find',
    [release, '!', '-type', 'l', '(', '!', '-uid', '0', '-o', '-perm', '/022', ')'],
    {
      encoding: 'utf8',
    },
  ).trim()
  assert.equal(writable, '', `not sealed:\n${writable.split('\n').slice(0, 10).join('\n')}`)
  // …and readable by the service account that runs it.
  assert.equal(statSync(cli).mode & 0o004, 0o004)
})
