// Upstream's CHANGELOG.md, read as data: one section per release (`## **X.Y.Z** (date)`), with
// `<img id="latest">` / `<img id="stable">` naming the channels, and CHANGELOG.unreleased.md for what is on
// master since the last release. Pure functions: text in, sections out.
import type { CommitInfo } from './mirror.ts'
import { compareVersions } from './version.ts'

export interface ChangelogSection {
  version: string
  /** As written in the heading, e.g. 2026-08-04; empty when the heading has none. */
  date: string
  /** Channels this section is marked with (`<img id="…">`). */
  channels: string[]
  /** The heading line as upstream wrote it. */
  heading: string
  /** The section's text without the heading and the channel badges, trimmed. */
  body: string
}

const HEADING = /^## \*\*v?(\d+\.\d+\.\d+)\*\*\s*(?:\(([^)]*)\))?/
const MARKER = /<img\s+id="([a-z]+)"[^>]*>/g

export function parseChangelog(text: string): ChangelogSection[] {
  const sections: ChangelogSection[] = []
  let cur: { version: string; date: string; heading: string; lines: string[] } | undefined
  const flush = () => {
    if (!cur) return
    const raw = cur.lines.join('\n')
    const channels = [...raw.matchAll(MARKER)].map((m) => m[1]!)
    const body = cur.lines
      .filter((l) => !/^\s*<img\s+id="[a-z]+"[^>]*>\s*$/.test(l))
      .join('\n')
      .trim()
    sections.push({ version: cur.version, date: cur.date, channels, heading: cur.heading, body })
    cur = undefined
  }
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith('## ')) {
      flush()
      const m = HEADING.exec(line)
      if (m) cur = { version: m[1]!, date: m[2]?.trim() ?? '', heading: line.trim(), lines: [] }
      continue
    }
    cur?.lines.push(line)
  }
  flush()
  return sections
}

/** The version CHANGELOG.md marks with a channel (the first section carrying the marker). */
export function channelMarkedIn(sections: ChangelogSection[], channel: string): string | undefined {
  return sections.find((s) => s.channels.includes(channel))?.version
}

/**
 * Sections strictly after `from` up to and including `to`, highest version first. Selected by version, not
 * by position: upstream sometimes appends a patch of an older line below newer releases.
 */
export function sectionsBetween(sections: ChangelogSection[], from: string, to: string): ChangelogSection[] {
  const base = (v: string) => v.replace(/-.*$/, '')
  // A -dev version (a commit after release X.Y.Z) already contains X.Y.Z: start after it.
  const lo = base(from)
  const hi = base(to)
  return sections
    .filter((s) => compareVersions(s.version, lo) > 0 && compareVersions(s.version, hi) <= 0)
    .sort((a, b) => compareVersions(b.version, a.version))
}

/**
 * CHANGELOG.unreleased.md without its guidance: the leading note, the `>` hints under each heading, and
 * headings that list nothing. Empty when nothing is listed.
 */
export function unreleasedEntries(text: string): string {
  const out: string[] = []
  let heading: string | undefined
  for (const line of text.split(/\r?\n/)) {
    if (/^\s*>/.test(line)) continue
    if (/^#{1,6} /.test(line)) {
      heading = line.trim()
      continue
    }
    if (!line.trim()) continue
    if (heading) {
      if (out.length) out.push('')
      out.push(heading)
      heading = undefined
    }
    out.push(line)
  }
  return out.join('\n')
}

/** The commit list to show: at most `max`, and how many more there are. */
export function capCommits(commits: CommitInfo[], max: number): { shown: CommitInfo[]; more: number } {
  return { shown: commits.slice(0, max), more: Math.max(0, commits.length - max) }
}
