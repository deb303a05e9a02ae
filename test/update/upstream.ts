// A fixture upstream shaped like Xen Orchestra's history: release commits `feat: release 1.0.0/1.1.0/1.2.0`,
// ordinary commits between them, a CHANGELOG.md whose `latest`/`stable` badges move with each release, and a
// CHANGELOG.unreleased.md that fills up after the last release. Dates are fixed, so the ids are stable within
// one run and the output can be compared with golden files (ids replaced by names).
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { commit, createFixture, type FixtureOptions } from '../fixtures/monorepo.ts'

export interface Upstream {
  dir: string
  /** Commit ids by name: 1.0.0, fix-a, feat-b, 1.1.0, fix-c, 1.2.0, notes, unreleased-d, tip. */
  revs: Record<string, string>
  /** Make a new commit on top with these files changed. */
  add(subject: string, files?: Record<string, string>): string
}

const badge = (ch: 'latest' | 'stable') =>
  `<img id="${ch}" src="https://badgen.net/badge/channel/${ch}/${ch === 'latest' ? 'yellow' : 'green'}" alt="Channel: ${ch}" />`

const SECTIONS: Record<string, { date: string; body: string }> = {
  '1.0.0': {
    date: '2026-01-01',
    body: '### Enhancements\n\n- [Core] First release (PR [#1](https://example.invalid/pull/1))',
  },
  '1.1.0': {
    date: '2026-01-04',
    body: '### Enhancements\n\n- [Web] Something new (PR [#3](https://example.invalid/pull/3))\n\n### Bug fixes\n\n- [Server] A first fix (PR [#2](https://example.invalid/pull/2))\n\n### Released packages\n\n- xo-server 5.1.0',
  },
  '1.2.0': {
    date: '2026-01-06',
    body: '### Bug fixes\n\n- [Server] A second fix (PR [#5](https://example.invalid/pull/5))\n\n### Released packages\n\n- xo-server 5.1.1',
  },
}

/** CHANGELOG.md as upstream writes it: newest first, badges under the headings. */
export function changelogText(released: string[], latest: string, stable: string): string {
  const parts = ['# ChangeLog', '']
  for (const v of [...released].reverse()) {
    const s = SECTIONS[v]!
    parts.push(`## **${v}** (${s.date})`, '')
    if (v === latest) parts.push(badge('latest'), '')
    if (v === stable) parts.push(badge('stable'), '')
    parts.push(s.body, '')
  }
  return parts.join('\n')
}

const UNRELEASED_EMPTY = `> This file contains all changes that have not been released yet.
>
> Keep in mind the changelog is addressed to **users** and should be
> understandable by them.

### Security

> Security fixes and new features should go in this section

### Enhancements

> Users must be able to say: "Nice enhancement, I'm eager to test it"

### Bug fixes

> Users must be able to say: "I had this issue, happy to know it's fixed"
`

const UNRELEASED_FILLED = UNRELEASED_EMPTY.replace(
  '### Bug fixes\n',
  '- [API] An unreleased thing (PR [#7](https://example.invalid/pull/7))\n\n### Bug fixes\n',
).concat('\n- [Server] An unreleased fix (PR [#8](https://example.invalid/pull/8))\n')

let clock = 0
/** Fixed, increasing dates: ids and the printed dates do not depend on when the test runs. */
function tick(): void {
  clock++
  const day = String(1 + Math.floor(clock / 2)).padStart(2, '0')
  const date = `2026-01-${day}T${clock % 2 ? '10' : '14'}:00:00Z`
  process.env.GIT_AUTHOR_DATE = date
  process.env.GIT_COMMITTER_DATE = date
}

export function createUpstream(dir: string, opts: FixtureOptions = {}): Upstream {
  clock = 0
  const revs: Record<string, string> = {}
  const write = (files: Record<string, string>) => {
    for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text)
  }
  const add = (subject: string, files: Record<string, string> = {}) => {
    tick()
    write(files)
    return commit(dir, subject)
  }
  tick()
  execFileSync('mkdir', ['-p', dir])
  write({
    'CHANGELOG.md': changelogText(['1.0.0'], '1.0.0', '1.0.0'),
    'CHANGELOG.unreleased.md': UNRELEASED_EMPTY,
  })
  revs['1.0.0'] = createFixture(dir, opts, '1.0.0')
  revs['fix-a'] = add('fix(server): a first fix (#2)', { 'fix-a.txt': 'a\n' })
  revs['feat-b'] = add('feat(web): something new (#3)', { 'feat-b.txt': 'b\n' })
  revs['1.1.0'] = add('feat: release 1.1.0 (#4)', {
    'CHANGELOG.md': changelogText(['1.0.0', '1.1.0'], '1.1.0', '1.0.0'),
  })
  revs['fix-c'] = add('fix(server): a second fix (#5)', { 'fix-c.txt': 'c\n' })
  revs['1.2.0'] = add('feat: release 1.2.0 (#6)', {
    'CHANGELOG.md': changelogText(['1.0.0', '1.1.0', '1.2.0'], '1.2.0', '1.1.0'),
  })
  // Starts like a release title but announces no version: must never count as one.
  revs.notes = add('feat: release notes generator (#9)', { 'notes.txt': 'n\n' })
  revs['unreleased-d'] = add('feat(api): an unreleased thing (#7)', {
    'CHANGELOG.unreleased.md': UNRELEASED_FILLED.replace(/\n- \[Server\][^\n]*\n$/, '\n'),
  })
  revs.tip = add('fix(server): an unreleased fix (#8)', { 'CHANGELOG.unreleased.md': UNRELEASED_FILLED })
  return { dir, revs, add }
}

/** The committer date (YYYY-MM-DD) of a fixture commit, as xoa prints it. */
export function commitDate(dir: string, rev: string): string {
  return execFileSync('git', ['log', '-1', '--format=%cs', rev], { cwd: dir, encoding: 'utf8' }).trim()
}

/** A pin file (as shipped: two-space JSON, final newline) naming one of the upstream's commits. */
export function writePinFile(file: string, url: string, rev: string, version: string, date: string): void {
  writeFileSync(file, `${JSON.stringify({ url, rev, version, date, channel: 'latest' }, null, 2)}\n`)
}

/** Replace every full or 10-digit id of `revs` in `text` by <name>, for golden comparisons. */
export function nameRevs(text: string, revs: Record<string, string>): string {
  let out = text
  for (const [name, rev] of Object.entries(revs))
    out = out.replaceAll(rev, `<${name}>`).replaceAll(rev.slice(0, 10), `<${name}>`)
  return out
}
