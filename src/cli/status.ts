// `xoa status`: one screen on whether XO is serving, and from which release; --json for machines.
import type { Command } from 'commander'
import { formatStatus } from '../status/format.ts'
import { hostView } from '../status/host.ts'
import { status } from '../status/status.ts'
import { EXIT } from '../util/errors.ts'
import { probeJson, probeXoState, type XoStateProbe } from '../xo-state/connect.ts'
import { xoDrift } from '../xo-state/format.ts'
import { xoStateDeclared } from '../xo-state/reconcile.ts'
import { dim, green, printJson, red, say, yellow } from './output.ts'
import { readSpec, withSpecOption } from './spec-option.ts'

export function register(program: Command): void {
  withSpecOption(program.command('status'))
    .description('release, xo-server (running, uptime, health), Redis, certificate, mounts, last upgrade')
    .option('--json', 'print the status as JSON')
    .addHelpText('after', '\nExit status: 0 when healthy, 1 when something is wrong (listed at the end).')
    .action(async (opts: { spec?: string; json?: boolean }) => {
      const spec = readSpec(opts)
      const report = await status(spec, hostView('/'))
      // Drift of XO's own state, asked of XO only when it is serving (a stopped XO is reported above).
      const xo: XoStateProbe = report.health?.healthy
        ? await probeXoState(spec).catch(
            (e: Error) => ({ status: 'unreachable', reason: e.message }) as const,
          )
        : xoStateDeclared(spec)
          ? { status: 'unreachable', reason: 'xo-server is not healthy' }
          : { status: 'none' }
      const drift = xo.status === 'checked' ? xoDrift(xo.changes) : 0
      const full = {
        ...report,
        ok: report.ok && drift === 0,
        problems: drift ? [...report.problems, `${driftLine(drift)} (xoa state plan)`] : report.problems,
      }
      process.exitCode = full.ok ? EXIT.ok : EXIT.failed
      if (opts.json) return printJson({ ...full, xoState: probeJson(xo) })
      const lines = formatStatus(full, { green, red, yellow, dim })
      // One more line at the end of the table (before the blank line and the verdict).
      const xoLine =
        xo.status === 'unreachable'
          ? yellow(`not checked (${xo.reason})`)
          : xo.status === 'checked'
            ? drift
              ? red(driftLine(drift))
              : green('as the spec says')
            : undefined
      if (xoLine) lines.splice(lines.indexOf(''), 0, `XO state  ${xoLine}`)
      for (const l of lines) say(l)
    })
}

export function driftLine(n: number): string {
  return `${n} XO object${n === 1 ? '' : 's'} differ${n === 1 ? 's' : ''} from the spec`
}
