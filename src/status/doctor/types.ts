// A doctor check: observe a few facts (small I/O), then decide with a pure function. A finding that is not ok
// carries the fix: the exact command to run, or the one step to take.
import type { HostLayout } from '../../host/layout.ts'
import type { Spec } from '../../spec/schema.ts'
import type { HostView } from '../host.ts'
import type { RedisFacts } from '../redis-facts.ts'
import type { ServerFacts } from '../server.ts'

/** skip: does not apply to this host or spec (HTTPS off, no sshd, not the live host). */
export type Level = 'ok' | 'warn' | 'fail' | 'skip'

export interface Finding {
  /** Which check, e.g. "config", "permissions". A check may report several findings. */
  check: string
  level: Level
  /** One line: what was found. */
  finding: string
  /** When not ok: the command to run, or the step to take. */
  fix?: string
}

export interface DoctorContext {
  spec: Spec
  specPath: string
  host: HostView
  now: Date
  server: ServerFacts
  redis: RedisFacts
  /** Where things live for the way this host runs xo-server. */
  layout: HostLayout
}

export interface Check {
  name: string
  run(ctx: DoctorContext): Finding[] | Promise<Finding[]>
}

export const ok = (check: string, finding: string): Finding => ({ check, level: 'ok', finding })
export const skip = (check: string, finding: string): Finding => ({ check, level: 'skip', finding })
export const warn = (check: string, finding: string, fix: string): Finding => ({
  check,
  level: 'warn',
  finding,
  fix,
})
export const fail = (check: string, finding: string, fix: string): Finding => ({
  check,
  level: 'fail',
  finding,
  fix,
})

/** How this host runs xo-server decides which command fixes a thing. */
export const bySystemd = (ctx: Pick<DoctorContext, 'server'>, systemd: string, foreground: string) =>
  ctx.server.mode === 'systemd' ? systemd : foreground

/** `--spec F` to append to xoa commands when the spec is not at its default place. */
export function specArg(ctx: Pick<DoctorContext, 'specPath'>): string {
  return ctx.specPath === '/etc/xoa/xoa.toml' ? '' : ` --spec ${ctx.specPath}`
}
