// `xoa logs` decided purely: which journalctl command (the seed's xoa-logs.sh), or, without systemd, which build
// log file. The CLI runs what is decided here.
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { Spec } from '../spec/schema.ts'

/** The seed's xoa-logs.sh follows these three. */
export const CORE_UNITS = ['xo-build', 'xo-server', 'redis-xo']

export interface LogsOptions {
  follow: boolean
  lines?: number
  /** Explicit units; default: the core three, plus xo-bootstrap, plus xoa-mountd in broker mode. */
  units?: string[]
}

export function defaultUnits(spec: Spec): string[] {
  return [
    ...CORE_UNITS,
    'xo-bootstrap',
    ...(spec.mounts.mode === 'broker' ? ['xoa-mountd'] : []),
    ...(spec.updates.schedule ? ['xoa-update'] : []),
  ]
}

const UNIT_NAME = /^[A-Za-z0-9@._:-]+$/

export function journalctlCommand(spec: Spec, opts: LogsOptions): string[] {
  const units = opts.units && opts.units.length > 0 ? opts.units : defaultUnits(spec)
  for (const u of units) if (!UNIT_NAME.test(u)) throw new Error(`not a unit name: ${JSON.stringify(u)}`)
  return [
    'journalctl',
    ...units.flatMap((u) => ['-u', u]),
    // -e jumps to the end in the pager (and implies -n 1000 unless -n says otherwise).
    '-e',
    ...(opts.lines !== undefined ? ['-n', String(opts.lines)] : []),
    ...(opts.follow ? ['-f'] : []),
  ]
}

/** The newest build log (`build-<stamp>.log`) in the logs dir, or undefined. */
export function newestBuildLog(logsDir: string): string | undefined {
  let names: string[]
  try {
    names = readdirSync(logsDir).filter((n) => /^build-.*\.log$/.test(n))
  } catch {
    return undefined
  }
  return names
    .map((n) => ({ path: join(logsDir, n), mtime: statSync(join(logsDir, n)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime || b.path.localeCompare(a.path))[0]?.path
}

export function tailCommand(file: string, opts: LogsOptions): string[] {
  return ['tail', '-n', String(opts.lines ?? 200), ...(opts.follow ? ['-F'] : []), file]
}

/** Quote a command for printing, so it can be pasted into a shell. */
export function shellLine(argv: string[]): string {
  return argv
    .map((a) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`))
    .join(' ')
}
