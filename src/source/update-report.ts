// What `xoa update` prints: old → new, the commits between and the changelog between. Pure (report → text),
// so the output is tested as a golden file.
import type { UpdateReport } from './update.ts'
import { compareVersions } from './version.ts'

const short = (rev: string) => rev.slice(0, 10)

/**
 * Pure: does the channel offer a *newer* version than the pin? Forward in history, or — on another line (a
 * pin upstream's history does not contain) — a higher version. Behind the pin, or not higher, is not newer.
 */
export function offersNewer(r: Pick<UpdateReport, 'direction' | 'from' | 'to'>): boolean {
  if (r.direction === 'forward') return true
  if (r.direction === 'sideways') return compareVersions(r.to.version, r.from.version) > 0
  return false
}

export function describeVersion(v: { version: string; rev: string; date: string }): string {
  return `${v.version}  ${short(v.rev)}${v.date ? `  ${v.date}` : ''}`
}

/** One line: what the move is. */
export function headline(r: UpdateReport): string {
  const via = r.channel === 'rev' ? `revision ${short(r.to.rev)}` : `channel ${r.channel}`
  const pin = r.pinnedBy === 'source.rev' ? 'source.rev in the spec' : 'the pin'
  switch (r.direction) {
    case 'up-to-date':
      return `already at ${r.to.version} (${short(r.to.rev)}), the newest on ${via}`
    case 'forward':
      return `update available on ${via}: ${r.from.version} → ${r.to.version}${r.pinnedBy === 'source.rev' ? ' (from source.rev in the spec)' : ''}`
    case 'backward':
      return `${via} is behind ${pin}: ${r.from.version} → ${r.to.version} goes back`
    case 'sideways':
      return `${via} is on another line than ${pin}: ${r.from.version} → ${r.to.version}`
  }
}

export interface FormatOptions {
  /** Print the changelog bodies (the headings alone otherwise). */
  changelogBodies?: boolean
}

export function formatUpdateReport(r: UpdateReport, opts: FormatOptions = {}): string[] {
  const lines = [headline(r)]
  if (r.direction === 'up-to-date') return lines
  lines.push(`  from  ${describeVersion(r.from)}`, `  to    ${describeVersion(r.to)}`)
  const total = r.commits.length + r.moreCommits
  if (total > 0) {
    const what = r.direction === 'backward' ? 'left behind' : 'new'
    lines.push('', `commits (${total} ${what}, newest first):`)
    for (const c of r.commits) lines.push(`  ${short(c.rev)} ${c.date} ${c.subject}`)
    if (r.moreCommits > 0) lines.push(`  … and ${r.moreCommits} more`)
  } else if (r.direction === 'sideways') {
    lines.push('', `commits: unknown (${short(r.from.rev)} is not in the upstream history)`)
  }
  if (r.changelog.length > 0) {
    lines.push('', r.direction === 'backward' ? 'changelog (releases left behind):' : 'changelog:')
    const bodies = opts.changelogBodies !== false
    for (const s of r.changelog) {
      if (bodies) lines.push('', s.heading)
      else lines.push(`  ${s.heading.replace(/^## /, '')}`)
      if (bodies && s.body) lines.push('', s.body)
    }
  }
  if (r.unreleased) {
    if (opts.changelogBodies !== false)
      lines.push('', '## unreleased (CHANGELOG.unreleased.md)', '', r.unreleased)
    else lines.push('  unreleased (CHANGELOG.unreleased.md)')
  }
  return lines
}

/** The machine form (`--json`): everything in the report, nothing formatted. */
export function reportJson(r: UpdateReport, extra: Record<string, unknown> = {}) {
  return {
    status:
      r.direction === 'up-to-date' ? 'up-to-date' : offersNewer(r) ? 'update-available' : 'channel-behind',
    direction: r.direction,
    pinnedBy: r.pinnedBy,
    channel: r.channel,
    pinFile: r.pinFile,
    url: r.url,
    from: r.from,
    to: { rev: r.to.rev, version: r.to.version, date: r.to.date, subject: r.to.subject },
    commits: r.commits,
    moreCommits: r.moreCommits,
    changelog: r.changelog.map((s) => ({
      version: s.version,
      date: s.date,
      heading: s.heading,
      body: s.body,
    })),
    unreleased: r.unreleased,
    ...extra,
  }
}
