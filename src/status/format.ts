// The one screen `xoa status` prints: a label per line, problems at the end in plain words.
import type { ReleaseSummary, StatusReport } from './status.ts'

export interface Paint {
  green(s: string): string
  red(s: string): string
  yellow(s: string): string
  dim(s: string): string
}

const plain: Paint = { green: (s) => s, red: (s) => s, yellow: (s) => s, dim: (s) => s }

export function duration(seconds: number): string {
  const d = Math.floor(seconds / 86400)
  const h = Math.floor((seconds % 86400) / 3600)
  const m = Math.floor((seconds % 3600) / 60)
  if (d > 0) return `${d} d ${h} h`
  if (h > 0) return `${h} h ${m} min`
  return m > 0 ? `${m} min` : `${seconds} s`
}

const when = (iso?: string) => (iso ? iso.slice(0, 16).replace('T', ' ') : '?')

function release(r: ReleaseSummary | undefined, paint: Paint): string {
  if (!r) return paint.dim('none')
  if (!r.complete) return paint.red(`${r.id} (incomplete)`)
  return `${r.id}  (${r.version}, rev ${r.rev?.slice(0, 10)}, node ${r.node}, built ${when(r.builtAt)})`
}

export function formatStatus(s: StatusReport, paint: Paint = plain): string[] {
  const lines: [string, string][] = []
  lines.push(['release', release(s.release.current, paint)])
  lines.push(['previous', release(s.release.previous, paint)])
  const sv = s.server
  const under = sv.supervisor === 'systemd' ? `systemd: ${sv.activeState}` : 'not under systemd'
  lines.push([
    'xo-server',
    sv.running
      ? `${paint.green('running')}${sv.pid ? `, pid ${sv.pid}` : ''}${sv.uptimeSeconds !== undefined ? `, up ${duration(sv.uptimeSeconds)}` : ''} (${under})`
      : `${paint.red('not running')} (${under})`,
  ])
  if (s.health) {
    const h = s.health
    const signIn =
      h.signIn === true
        ? 'admin signs in'
        : h.signIn === false
          ? paint.red('sign-in refused')
          : h.signInSkipped
            ? paint.yellow(`sign-in not checked: ${h.signInSkipped}`)
            : 'sign-in not tried'
    lines.push([
      'health',
      h.healthy
        ? `${h.url}  ${paint.green('ping ok')}, ${signIn}`
        : `${h.url}  ${paint.red(h.reason ?? 'unhealthy')}`,
    ])
  }
  const r = s.redis
  lines.push([
    'redis',
    r.answers
      ? `${r.socket}  ${paint.green('answers')}, ${r.keys} keys, ${r.users === undefined ? 'users unreadable' : `${r.users} users`}${r.encryptedUsers ? ` (${r.encryptedUsers} encrypted)` : ''}, AOF ${r.aof === undefined ? '?' : r.aof ? 'on' : paint.red('off')}`
      : `${r.socket}  ${paint.red('no answer')}${r.error ? `: ${r.error}` : ''}`,
  ])
  const c = s.certificate
  if (!c.enabled) lines.push(['certificate', paint.dim('HTTPS off')])
  else if ('error' in c) lines.push(['certificate', paint.red(c.error)])
  else {
    const left = c.expired
      ? paint.red('expired')
      : c.daysLeft < 30
        ? paint.yellow(`${c.daysLeft} days left`)
        : `${c.daysLeft} days left`
    lines.push([
      'certificate',
      `${c.subject}  (${c.generatedByXoa ? 'self-signed by xoa' : "the user's"}), expires ${c.notAfter.slice(0, 10)}, ${left}`,
    ])
  }
  if (s.mounts.length === 0) lines.push(['mounts', paint.dim('none')])
  for (const m of s.mounts) lines.push(['mounts', `${m.type}  ${m.source} → ${m.target}`])
  if (s.lastUpgrade) {
    const u = s.lastUpgrade
    lines.push([
      'last upgrade',
      `${when(u.when)}  ${u.outcome ?? '?'}${u.from || u.to ? `  ${u.from ?? '?'} → ${u.to ?? '?'}` : ''}`,
    ])
  }
  const width = Math.max(...lines.map(([l]) => l.length))
  const out = lines.map(([l, v]) => `${l.padEnd(width)}  ${v}`)
  out.push('')
  if (s.ok) out.push(paint.green('healthy'))
  else
    out.push(
      paint.red(`${s.problems.length} problem${s.problems.length > 1 ? 's' : ''}:`),
      ...s.problems.map((p) => `  - ${p}`),
      '',
      'next: xoa doctor',
    )
  return out
}
