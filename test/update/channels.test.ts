// Channel resolution and changelog parsing: the pure core on upstream-shaped text, then the same against a
// real git mirror of the fixture upstream.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import {
  channelMarkedIn,
  parseChangelog,
  sectionsBetween,
  unreleasedEntries,
} from '../../src/source/changelog.ts'
import {
  parseReleaseSubject,
  readUpstream,
  releaseCommits,
  resolveChannel,
  resolveRev,
} from '../../src/source/channels.ts'
import { GitMirror } from '../../src/source/mirror.ts'
import { renderPin } from '../../src/source/pin-write.ts'
import { compareVersions } from '../../src/source/version.ts'
import { tempDir } from '../helpers.ts'
import { changelogText, createUpstream } from './upstream.ts'

test('release subjects as upstream has written them over the years', () => {
  assert.equal(parseReleaseSubject('feat: release 6.7.1 (#10229)'), '6.7.1')
  assert.equal(parseReleaseSubject('feat: release XO 6.3.2 (#9676)'), '6.3.2')
  assert.equal(parseReleaseSubject('feat: release  5.113.1 (#9263)'), '5.113.1')
  assert.equal(parseReleaseSubject('feat: release 7.79.2'), '7.79.2')
  assert.equal(parseReleaseSubject('feat: release notes generator (#9)'), undefined)
  assert.equal(parseReleaseSubject('feat: technical release (#10228)'), undefined)
  assert.equal(parseReleaseSubject('chore: feat: release 1.0.0'), undefined)
  assert.equal(parseReleaseSubject('feat: release 1.2.3.4'), undefined)
})

test('versions compare numerically; X.Y.Z-dev (a commit after X.Y.Z) sorts after X.Y.Z', () => {
  assert.equal(compareVersions('6.10.0', '6.9.9'), 1)
  assert.equal(compareVersions('6.7.1', '6.7.1'), 0)
  assert.equal(compareVersions('6.7.1-dev', '6.7.1'), 1)
  assert.equal(compareVersions('6.7.1-dev', '6.7.2'), -1)
})

test('latest is the newest release commit, not the highest version; a doubled release maps to its newest commit', () => {
  const commits = [
    { rev: 'c'.repeat(40), date: '2026-08-04', subject: 'feat: release 6.7.1 (#10229)' },
    { rev: 'b'.repeat(40), date: '2026-08-04', subject: 'feat: technical release (#10228)' },
    { rev: 'd'.repeat(40), date: '2026-02-10', subject: 'feat: release 6.1.2 (#9485)' },
    { rev: 'e'.repeat(40), date: '2026-02-09', subject: 'feat: release 6.1.2 (#9480)' },
    // Upstream's history really holds this, years before 6.x.
    { rev: 'a'.repeat(40), date: '2023-02-20', subject: 'feat: release 7.79.2' },
  ]
  const view = {
    tip: commits[0]!,
    releases: releaseCommits(commits),
    changelog: parseChangelog(
      '## **6.7.1** (2026-08-04)\n\n<img id="latest" />\n\n## **6.1.2** (2026-02-10)\n\n<img id="stable" />\n',
    ),
  }
  assert.equal(resolveChannel(view, 'latest').version, '6.7.1')
  assert.equal(resolveChannel(view, 'stable').rev, 'd'.repeat(40))
  assert.equal(resolveChannel(view, 'master').version, '6.7.1')
})

test('CHANGELOG.md: sections, dates, channel badges; bodies without the badges', () => {
  const text = changelogText(['1.0.0', '1.1.0', '1.2.0'], '1.2.0', '1.1.0')
  const s = parseChangelog(text)
  assert.deepEqual(
    s.map((x) => [x.version, x.date, x.channels]),
    [
      ['1.2.0', '2026-01-06', ['latest']],
      ['1.1.0', '2026-01-04', ['stable']],
      ['1.0.0', '2026-01-01', []],
    ],
  )
  assert.equal(channelMarkedIn(s, 'stable'), '1.1.0')
  assert.equal(channelMarkedIn(s, 'latest'), '1.2.0')
  assert.doesNotMatch(s[0]!.body, /<img/)
  assert.match(s[0]!.body, /^### Bug fixes/)
})

test('sections between two versions are chosen by version, not by position in the file', () => {
  // Upstream appended 6.2.3 (a patch of an older line) below 6.3.0.
  const s = parseChangelog(
    ['## **6.3.3** (x)', '## **6.3.0** (x)', '## **6.2.3** (x)', '## **6.2.2** (x)', '## **6.2.0** (x)'].join(
      '\n\n',
    ),
  )
  assert.deepEqual(
    sectionsBetween(s, '6.2.2', '6.3.3').map((x) => x.version),
    ['6.3.3', '6.3.0', '6.2.3'],
  )
  assert.deepEqual(
    sectionsBetween(s, '6.2.0-dev', '6.3.0').map((x) => x.version),
    ['6.3.0', '6.2.3', '6.2.2'],
  )
  assert.deepEqual(sectionsBetween(s, '6.3.3', '6.3.3'), [])
})

test('CHANGELOG.unreleased.md: the guidance goes, headings without entries go', () => {
  const text =
    '> This file contains all changes that have not been released yet.\n>\n\n### Security\n\n> Security fixes…\n\n' +
    '### Enhancements\n\n> Users must…\n\n- [A] one\n- [B] two\n\n### Bug fixes\n\n> Users…\n\n- [C] three\n'
  assert.equal(
    unreleasedEntries(text),
    '### Enhancements\n- [A] one\n- [B] two\n\n### Bug fixes\n- [C] three',
  )
  assert.equal(unreleasedEntries('> only guidance\n\n### Security\n\n> hint\n'), '')
})

test('the pin keeps its key order, indentation, unknown keys and final newline', () => {
  const original =
    '{\n    "rev": "old",\n    "url": "u",\n    "hash": "keep me",\n    "channel": "stable"\n}\n'
  const pin = { url: 'u', rev: 'f'.repeat(40), version: '1.2.0', date: '2026-01-06', channel: 'latest' }
  assert.equal(
    renderPin(original, pin),
    `{\n    "rev": "${'f'.repeat(40)}",\n    "url": "u",\n    "hash": "keep me",\n    "channel": "latest",\n    "version": "1.2.0",\n    "date": "2026-01-06"\n}\n`,
  )
  // A revision asked for by hand follows no channel: the key goes.
  assert.doesNotMatch(renderPin(original, { ...pin, channel: undefined }), /channel/)
  assert.ok(!renderPin('{"url":"u","rev":"r"}', pin).endsWith('\n'))
})

test('channels resolve against a real mirror of the fixture upstream', async (t) => {
  const dir = tempDir(t, 'xoa-channels-')
  const up = createUpstream(join(dir, 'upstream'))
  const mirror = new GitMirror(join(dir, 'mirror.git'))
  await mirror.ensure(up.dir)
  await mirror.fetch()
  const view = await readUpstream(mirror)
  assert.deepEqual(
    view.releases.map((r) => r.version),
    ['1.2.0', '1.1.0', '1.0.0'],
    'the "release notes" commit is not a release',
  )
  const latest = resolveChannel(view, 'latest')
  assert.deepEqual([latest.version, latest.rev], ['1.2.0', up.revs['1.2.0']])
  assert.match(latest.date, /^2026-01-\d\d$/)
  const stable = resolveChannel(view, 'stable')
  assert.deepEqual([stable.version, stable.rev], ['1.1.0', up.revs['1.1.0']])
  const master = resolveChannel(view, 'master')
  assert.deepEqual([master.version, master.rev], ['1.2.0-dev', up.revs.tip])
  const rev = await resolveRev(mirror, view, up.revs['fix-c']!.slice(0, 12))
  assert.deepEqual([rev.channel, rev.version, rev.rev], ['rev', '1.1.0-dev', up.revs['fix-c']])
  assert.equal((await resolveRev(mirror, view, up.revs['1.1.0']!)).version, '1.1.0')
  await assert.rejects(resolveRev(mirror, view, 'f'.repeat(40)), /no commit or ref/)
})
