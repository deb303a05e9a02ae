// `xoa update` as a user runs it, against the fixture upstream: the printed report (golden), --check's exit
// codes, the pin rewritten in place, --commit in the git repository holding the pin.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { tempDir, xoa } from '../helpers.ts'
import { commitDate, createUpstream, nameRevs, type Upstream, writePinFile } from './upstream.ts'

const GOLDEN = join(import.meta.dirname, 'golden')
const updateGolden = process.env.UPDATE_GOLDEN === '1'

function golden(name: string, actual: string): void {
  const file = join(GOLDEN, name)
  if (updateGolden) {
    mkdirSync(GOLDEN, { recursive: true })
    writeFileSync(file, actual)
  }
  assert.equal(actual, readFileSync(file, 'utf8'), `golden ${name} (UPDATE_GOLDEN=1 rewrites it)`)
}

interface Setup {
  dir: string
  up: Upstream
  pin: string
  spec: string
  state: string
}

function setup(t: { after(fn: () => void): void }, from = '1.0.0'): Setup {
  const dir = tempDir(t, 'xoa-update-')
  const up = createUpstream(join(dir, 'upstream'))
  const state = join(dir, 'state')
  const pin = join(dir, 'xo-source.json')
  writePinFile(pin, up.dir, up.revs[from]!, from, commitDate(up.dir, up.revs[from]!))
  const spec = join(dir, 'xoa.json')
  writeFileSync(spec, JSON.stringify({ xo: { stateDir: state }, source: { pinFile: pin } }))
  return { dir, up, pin, spec, state }
}

const names = (s: Setup, text: string) =>
  nameRevs(text, s.up.revs).replaceAll(s.pin, '<pin>').replaceAll(s.up.dir, '<upstream>')

test('--check reports 1.0.0 → 1.2.0 on latest with the commits and changelog between (golden), exit 10, pin untouched', (t) => {
  const s = setup(t)
  const before = readFileSync(s.pin, 'utf8')
  const r = xoa(['update', '--spec', s.spec, '--check'])
  assert.equal(r.status, 10, r.stderr)
  golden('check-latest-from-1.0.0.txt', names(s, r.stdout))
  assert.equal(readFileSync(s.pin, 'utf8'), before)
  assert.ok(existsSync(join(s.state, 'cache', 'xen-orchestra.git', 'HEAD')), 'the mirror is in the state dir')
})

test('master from 1.1.0: commits capped with "… and N more", changelog plus the unreleased entries (golden)', (t) => {
  const s = setup(t, '1.1.0')
  const r = xoa(['update', '--spec', s.spec, '--channel', 'master', '--max-commits', '2', '--check'])
  assert.equal(r.status, 10, r.stderr)
  golden('check-master-from-1.1.0.txt', names(s, r.stdout))
})

test('update rewrites the pin atomically, keeping its format; a second run is "already at", exit 0', (t) => {
  const s = setup(t)
  const r = xoa(['update', '--spec', s.spec])
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, /pin updated: .* → 1\.2\.0/)
  assert.equal(
    readFileSync(s.pin, 'utf8'),
    `${JSON.stringify({ url: s.up.dir, rev: s.up.revs['1.2.0'], version: '1.2.0', date: commitDate(s.up.dir, s.up.revs['1.2.0']!), channel: 'latest' }, null, 2)}\n`,
  )
  const again = xoa(['update', '--spec', s.spec])
  assert.equal(again.status, 0, again.stderr)
  assert.match(again.stdout, /^already at 1\.2\.0 \([0-9a-f]{10}\), the newest on channel latest$/m)
  const check = xoa(['update', '--spec', s.spec, '--check'])
  assert.equal(check.status, 0, 'up to date: --check exits 0')
})

test('stable resolves to the release CHANGELOG.md marks stable; a channel behind the pin is exit 11, not 10', (t) => {
  const s = setup(t, '1.2.0')
  const r = xoa(['update', '--spec', s.spec, '--channel', 'stable', '--check', '--json'])
  assert.equal(r.status, 11, r.stderr)
  const j = JSON.parse(r.stdout)
  assert.equal(j.status, 'channel-behind')
  assert.equal(j.direction, 'backward')
  assert.deepEqual([j.to.version, j.to.rev], ['1.1.0', s.up.revs['1.1.0']])
  assert.deepEqual(
    j.commits.map((c: { subject: string }) => c.subject),
    ['feat: release 1.2.0 (#6)', 'fix(server): a second fix (#5)'],
  )
  const human = xoa(['update', '--spec', s.spec, '--channel', 'stable', '--check'])
  assert.equal(human.status, 11)
  assert.match(human.stdout, /^channel stable is behind the pin: 1\.2\.0 → 1\.1\.0 goes back$/m)
  assert.match(human.stdout, /^nothing newer on channel stable$/m)
})

// Issue 12: a user who pins by source.rev still wants to know whether a newer release exists.
test('--check with source.rev in the spec compares that rev with the channel and moves nothing', (t) => {
  const s = setup(t) // the pin file says 1.0.0; source.rev overrides it
  const pinText = readFileSync(s.pin, 'utf8')
  const withRev = (rev: string) =>
    writeFileSync(s.spec, JSON.stringify({ xo: { stateDir: s.state }, source: { pinFile: s.pin, rev } }))

  withRev(s.up.revs['1.1.0']!.slice(0, 12))
  let r = xoa(['update', '--spec', s.spec, '--check', '--json'])
  assert.equal(r.status, 10, r.stderr)
  const j = JSON.parse(r.stdout)
  assert.deepEqual(
    [j.status, j.pinnedBy, j.from.rev, j.from.version, j.to.version],
    ['update-available', 'source.rev', s.up.revs['1.1.0'], '1.1.0', '1.2.0'],
  )
  r = xoa(['update', '--spec', s.spec, '--check'])
  assert.equal(r.status, 10)
  assert.match(
    r.stdout,
    /^update available on channel latest: 1\.1\.0 → 1\.2\.0 \(from source\.rev in the spec\)$/m,
  )

  // The stable channel (1.1.0) is behind a source.rev at 1.2.0: its own exit code, never "update available".
  withRev(s.up.revs['1.2.0']!)
  r = xoa(['update', '--spec', s.spec, '--check', '--channel', 'stable'])
  assert.equal(r.status, 11, r.stdout + r.stderr)
  assert.match(r.stdout, /^channel stable is behind source\.rev in the spec: 1\.2\.0 → 1\.1\.0 goes back$/m)
  r = xoa(['update', '--spec', s.spec, '--check'])
  assert.equal(r.status, 0, r.stdout + r.stderr)
  assert.match(r.stdout, /^already at 1\.2\.0/m)

  assert.equal(readFileSync(s.pin, 'utf8'), pinText, 'the pin file is never touched')
  // Without --check it is still refused: moving the pin would change nothing.
  assert.equal(xoa(['update', '--spec', s.spec]).status, 2)
  assert.equal(readFileSync(s.pin, 'utf8'), pinText)
})

test('--rev pins a commit by hand: version from the history, no channel in the pin', (t) => {
  const s = setup(t)
  const r = xoa(['update', '--spec', s.spec, '--rev', s.up.revs['fix-c']!.slice(0, 9)])
  assert.equal(r.status, 0, r.stderr)
  const pin = JSON.parse(readFileSync(s.pin, 'utf8'))
  assert.deepEqual(pin, {
    url: s.up.dir,
    rev: s.up.revs['fix-c'],
    version: '1.1.0-dev',
    date: commitDate(s.up.dir, s.up.revs['fix-c']!),
  })
})

test('--commit commits only the pin, in the git repository it lives in, with "xo: old → new (channel)"', (t) => {
  const s = setup(t)
  const repo = join(s.dir, 'flake')
  mkdirSync(repo)
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...args], {
      cwd: repo,
      encoding: 'utf8',
    }).trim()
  git('init', '--quiet')
  writeFileSync(join(repo, 'xo-source.json'), readFileSync(s.pin, 'utf8'))
  writeFileSync(join(repo, 'other.txt'), 'x\n')
  git('add', '.')
  git('commit', '--quiet', '-m', 'init')
  // Something else staged in the user's repository must stay out of the pin commit.
  writeFileSync(join(repo, 'other.txt'), 'changed\n')
  git('add', 'other.txt')
  const env = {
    GIT_AUTHOR_NAME: 't',
    GIT_AUTHOR_EMAIL: 't@example.invalid',
    GIT_COMMITTER_NAME: 't',
    GIT_COMMITTER_EMAIL: 't@example.invalid',
  }
  const r = xoa(['update', '--spec', s.spec, '--pin-file', join(repo, 'xo-source.json'), '--commit'], { env })
  assert.equal(r.status, 0, r.stderr)
  assert.equal(git('log', '-1', '--format=%s'), 'xo: 1.0.0 → 1.2.0 (latest)')
  assert.equal(git('show', '--name-only', '--format=', 'HEAD'), 'xo-source.json')
  assert.equal(git('diff', '--cached', '--name-only'), 'other.txt', 'other.txt is still staged')
  assert.match(r.stdout, /committed [0-9a-f]{10}: xo: 1\.0\.0 → 1\.2\.0 \(latest\)/)
})

test('usage errors exit 2: a bad channel, --check with --commit, a spec that pins source.rev', (t) => {
  const s = setup(t)
  assert.equal(xoa(['update', '--spec', s.spec, '--channel', 'nightly']).status, 2)
  assert.equal(xoa(['update', '--spec', s.spec, '--check', '--commit']).status, 2)
  writeFileSync(
    s.spec,
    JSON.stringify({ xo: { stateDir: s.state }, source: { pinFile: s.pin, rev: 'abcdef1' } }),
  )
  const r = xoa(['update', '--spec', s.spec])
  assert.equal(r.status, 2)
  assert.match(r.stderr, /source\.rev in the spec/)
})
