// Desired vs observed, per resource: + create, ~ change (saying what), = unchanged, ! skipped, x conflict.
// Pure: the same inputs give the same plan, so `xoa plan` and `xoa apply` can never disagree.
import type { Host } from './host.ts'
import type { Observed, PathState } from './observe.ts'
import { stockUnitsFor } from './packages.ts'
import { type FixedId, octal, type Resource, resourceId } from './resources.ts'

export type Action = 'create' | 'change' | 'ok' | 'skip' | 'conflict'

export const SYMBOL: Record<Action, string> = { create: '+', change: '~', ok: '=', skip: '!', conflict: 'x' }

export interface Change {
  id: string
  resource: Resource
  action: Action
  details: string[]
  /** file: the content must be (re)written, not just its owner or mode fixed. */
  rewrite?: boolean
  /** unit: the systemctl steps to run, in order. */
  steps?: UnitStep[]
}

export type UnitStep = 'enable' | 'restart' | 'start'

type Ctx = Pick<Host, 'live' | 'systemd'>

export function diff(resources: Resource[], observed: Observed[], host: Ctx): Change[] {
  const changes = resources.map((r, i) => diffOne(r, observed[i]))
  // A unit restarts when one of its inputs changes in this run: decided once all files are diffed.
  const touched = new Set(
    changes
      .filter((c) => c.action === 'create' || c.action === 'change')
      .flatMap((c) => (c.resource.kind === 'file' ? [c.resource.file.path] : [])),
  )
  return changes.map((c, i) => {
    const r = resources[i]
    const o = observed[i]
    return r?.kind === 'unit' && o?.kind === 'unit' ? diffUnit(c, r, o, touched, host) : c
  })
}

function change(resource: Resource, action: Action, details: string[] = []): Change {
  return { id: resourceId(resource), resource, action, details }
}

/** xoa never renumbers an account: every file it owns would change hands. */
function idConflict(r: Resource, what: string, has: number | undefined, want: FixedId): Change {
  return change(r, 'conflict', [
    `exists with ${what} ${has}, but ${want.field} = ${want.id}: change ${want.field} (or the account) to agree`,
  ])
}

function diffOne(r: Resource, o: Observed | undefined): Change {
  if (!o) throw new Error(`no observation for ${resourceId(r)}`)
  switch (r.kind) {
    case 'group':
      if (o.kind === 'group' && o.exists)
        return r.gid && o.gid !== r.gid.id ? idConflict(r, 'gid', o.gid, r.gid) : change(r, 'ok')
      return change(r, 'create', [r.system ? 'system' : 'user group', ...(r.gid ? [`gid ${r.gid.id}`] : [])])
    case 'user': {
      const s = o.kind === 'user' ? o.state : undefined
      if (s && r.uid && s.uid !== r.uid.id) return idConflict(r, 'uid', s.uid, r.uid)
      if (!s)
        return change(r, 'create', [
          r.system ? 'system' : 'login',
          ...(r.uid ? [`uid ${r.uid.id}`] : []),
          `home ${r.home}`,
          `shell ${r.shell}`,
          ...(r.groups.length ? [`groups ${r.groups.join(',')}`] : []),
        ])
      const d: string[] = []
      if (s.home !== r.home) d.push(`home ${s.home} → ${r.home}`)
      if (s.shell !== r.shell) d.push(`shell ${s.shell} → ${r.shell}`)
      if (s.group !== r.group) d.push(`group ${s.group} → ${r.group}`)
      const want = [...r.groups].sort()
      if (want.join(',') !== s.groups.join(','))
        d.push(`groups ${s.groups.join(',') || '-'} → ${want.join(',') || '-'}`)
      if (s.locked === false) d.push('lock password')
      return change(r, d.length ? 'change' : 'ok', d)
    }
    case 'dir':
      return diffPath(r, o, 'dir', r.owner, r.group, r.mode, [])
    case 'file': {
      const f = r.file
      const s = o.kind === 'path' ? o.state : undefined
      const content =
        s?.type === 'file' && s.content !== undefined && s.content !== f.content
          ? [f.secret ? 'content (secret, not shown)' : `content ${lineDelta(s.content, f.content)}`]
          : []
      const c = diffPath(r, o, 'file', f.owner, f.group, f.mode, content)
      return { ...c, rewrite: c.action === 'create' || content.length > 0 }
    }
    case 'secret':
      return diffSecret(r, o)
    case 'seed':
      return diffPath(r, o, 'file', r.owner, r.group, r.mode, [], [`seed ${r.description}`])
    case 'symlink': {
      const s = o.kind === 'path' ? o.state : undefined
      if (!s) return change(r, 'create', [`→ ${r.target}`])
      if (s.type !== 'symlink') return change(r, 'conflict', [`exists and is a ${s.type}, not a symlink`])
      return s.target === r.target
        ? change(r, 'ok')
        : change(r, 'change', [`target ${s.target} → ${r.target}`])
    }
    case 'package':
      if (o.kind !== 'package' || o.skip)
        return change(r, 'skip', [o.kind === 'package' && o.skip ? o.skip : 'skipped'])
      if (o.installed) return change(r, 'ok')
      // Said before it happens: the stock unit a package would start is masked before apt runs.
      return change(r, 'create', [
        'apt-get install',
        ...stockUnitsFor([r.name]).map((u) => `mask ${u.unit} first`),
      ])
    case 'unit':
      return change(r, 'ok')
  }
}

function diffPath(
  r: Resource,
  o: Observed,
  type: 'dir' | 'file',
  owner: string,
  group: string,
  mode: number,
  extra: string[],
  createDetails: string[] = [],
): Change {
  const s: PathState | undefined = o.kind === 'path' ? o.state : undefined
  if (!s) return change(r, 'create', [...createDetails, `${owner}:${group} ${octal(mode)}`])
  if (s.type !== type)
    return change(r, 'conflict', [
      `exists and is a ${s.type === 'dir' ? 'directory' : s.type}, not a ${type === 'dir' ? 'directory' : 'file'}`,
    ])
  const d = [...extra]
  if (s.mode !== mode) d.push(`mode ${octal(s.mode)} → ${octal(mode)}`)
  if (s.owner !== owner || s.group !== group) d.push(`owner ${s.owner}:${s.group} → ${owner}:${group}`)
  return change(r, d.length ? 'change' : 'ok', d)
}

/** Never a change for apply: xoa bootstrap makes the file (src/run/secrets.ts); the plan says what it will find. */
function diffSecret(r: Extract<Resource, { kind: 'secret' }>, o: Observed): Change {
  const s: PathState | undefined = o.kind === 'path' ? o.state : undefined
  const who = `${r.owner}:${r.group} ${octal(r.mode)}`
  const by = r.declared ? 'read at run time by xoa bootstrap' : 'managed at run time by xoa bootstrap'
  const d = [`${by}: ${r.description}`]
  if (!s) d.push(r.declared ? 'absent: bootstrap fails until it is written' : `absent: generated ${who}`)
  else if (s.type !== 'file' && !(r.declared && s.type === 'symlink'))
    d.push(`is a ${s.type === 'dir' ? 'directory' : s.type}: bootstrap refuses it`)
  else if (!r.declared && (s.mode !== r.mode || s.owner !== r.owner || s.group !== r.group))
    d.push(`${s.owner}:${s.group} ${octal(s.mode)}, bootstrap makes it ${who}`)
  return change(r, 'ok', d)
}

function diffUnit(
  c: Change,
  r: Extract<Resource, { kind: 'unit' }>,
  o: Extract<Observed, { kind: 'unit' }>,
  touched: Set<string>,
  host: Ctx,
): Change {
  if (o.skip) return { ...c, action: 'skip', details: [o.skip] }
  const d: string[] = []
  const steps: UnitStep[] = []
  const create = r.enable && !o.enabled
  if (create) {
    d.push('enable')
    steps.push('enable')
  }
  if (host.live && host.systemd) {
    const inputs = r.inputs.filter((p) => touched.has(p))
    if (o.active && inputs.length) {
      d.push(`restart: ${inputs.join(', ')} changed`)
      steps.push('restart')
    } else if (!o.active && r.start) {
      d.push('start')
      steps.push('start')
    }
  }
  return { ...c, action: create ? 'create' : d.length ? 'change' : 'ok', details: d, steps }
}

/** "+2 −1 lines": a multiset count, enough to say how big a change is without printing it. */
export function lineDelta(before: string, after: string): string {
  const count = (text: string) => {
    const m = new Map<string, number>()
    for (const l of text.split('\n')) m.set(l, (m.get(l) ?? 0) + 1)
    return m
  }
  const a = count(before)
  const b = count(after)
  let added = 0
  let removed = 0
  for (const [l, n] of b) added += Math.max(0, n - (a.get(l) ?? 0))
  for (const [l, n] of a) removed += Math.max(0, n - (b.get(l) ?? 0))
  return `+${added} −${removed} lines`
}

export function summarize(changes: Change[]): Record<Action, number> {
  const s: Record<Action, number> = { create: 0, change: 0, ok: 0, skip: 0, conflict: 0 }
  for (const c of changes) s[c.action]++
  return s
}
