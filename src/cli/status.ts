// `xoa status`: one screen on whether XO is serving, and from which release; --json for machines.
import type { Command } from 'commander'
import { formatStatus } from '../status/format.ts'
import { hostView } from '../status/host.ts'
import { status } from '../status/status.ts'
import { EXIT } from '../util/errors.ts'
import { probeJson, probeXoState, type XoStateProbe } from '../xo-state/connect.ts'
import { xoDrift } from '../xo-state/format.ts'
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
        : { status: 'none' }
      const drift = xo.status === 'checked' ? xoDrift(xo.changes) : 0
      const ok = report.ok && drift === 0
      process.exitCode = ok ? EXIT.ok : EXIT.failed
      if (opts.json)
        return printJson({
          ...report,
          ok,
          problems: drift ? [...report.problems, driftLine(drift)] : report.problems,
          xoState: probeJson(xo),
        })
      for (const l of formatStatus(report, { green, red, yellow, dim })) say(l)
      if (xo.status === 'unreachable') say(yellow(`XO state: not checked (${xo.reason})`))
      if (xo.status === 'checked')
        say(drift ? red(`${driftLine(drift)} (xoa state plan)`) : green('XO state: as the spec says'))
    })
}

export function driftLine(n: number): string {
  return `${n} XO object${n === 1 ? '' : 's'} differ${n === 1 ? 's' : ''} from the spec`
}
