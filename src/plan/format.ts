// Showing a plan or an apply the terraform way: one line per resource, then a summary. Never a secret's content.
import { type Action, type Change, SYMBOL, summarize } from './diff.ts'

export function changeLine(c: Change): string {
  return `${SYMBOL[c.action]} ${c.id}${c.details.length ? ` (${c.details.join(', ')})` : ''}`
}

export function planSummary(changes: Change[]): string {
  const s = summarize(changes)
  return `Plan: ${s.create} to create, ${s.change} to change, ${s.ok} unchanged, ${s.skip} skipped${s.conflict ? `, ${s.conflict} in conflict` : ''}.`
}

export function applySummary(changes: Change[]): string {
  const s = summarize(changes)
  return `Applied: ${s.create} created, ${s.change} changed, ${s.ok} unchanged, ${s.skip} skipped.`
}

export interface ChangeJson {
  action: Action
  symbol: string
  kind: string
  name: string
  details: string[]
}

/** Machine-readable form; details never carry secret content (diff only says "content (secret)"). */
export function changesJson(changes: Change[]) {
  const s = summarize(changes)
  return {
    changes: s.create + s.change,
    summary: s,
    resources: changes.map(
      (c): ChangeJson => ({
        action: c.action,
        symbol: SYMBOL[c.action],
        kind: c.resource.kind,
        name: c.id.slice(c.resource.kind.length + 1),
        details: c.details,
      }),
    ),
  }
}
