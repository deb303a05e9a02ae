// XO-state changes shown like file plans (src/plan/format.ts): one "+ ~ - = !" line per object, a summary, and
// the same JSON shape. Details never carry a secret (the diff names a changed secret by its field only).
import { summarizeXo, XO_SYMBOL, type XoChange } from './change.ts'

export function xoChangeLine(c: XoChange): string {
  return `${XO_SYMBOL[c.action]} xo-${c.id}${c.details.length ? ` (${c.details.join(', ')})` : ''}`
}

export function xoPlanSummary(changes: XoChange[]): string {
  const s = summarizeXo(changes)
  return `XO state: ${s.create} to create, ${s.change} to change, ${s.delete} to delete, ${s.ok} unchanged, ${s.skip} skipped.`
}

export function xoApplySummary(changes: XoChange[]): string {
  const s = summarizeXo(changes)
  return `XO state applied: ${s.create} created, ${s.change} changed, ${s.delete} deleted, ${s.ok} unchanged, ${s.skip} skipped.`
}

/** The lines `xoa state plan` prints (and `xoa plan` after the files). */
export function xoPlanLines(changes: XoChange[]): string[] {
  return [...changes.map(xoChangeLine), xoPlanSummary(changes)]
}

/** How many XO objects differ from the spec (what `xoa status` reports). */
export function xoDrift(changes: XoChange[]): number {
  const s = summarizeXo(changes)
  return s.create + s.change + s.delete
}

export function xoChangesJson(changes: XoChange[]) {
  const s = summarizeXo(changes)
  return {
    changes: xoDrift(changes),
    summary: s,
    resources: changes.map((c) => ({
      action: c.action,
      symbol: XO_SYMBOL[c.action],
      kind: `xo-${c.kind}`,
      name: c.name,
      details: c.details,
    })),
  }
}
