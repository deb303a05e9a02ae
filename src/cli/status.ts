// `xoa status`: one screen on whether XO is serving, and from which release; --json for machines.
import type { Command } from 'commander'
import { formatStatus } from '../status/format.ts'
import { hostView } from '../status/host.ts'
import { status } from '../status/status.ts'
import { EXIT } from '../util/errors.ts'
import { dim, green, printJson, red, say, yellow } from './output.ts'
import { readSpec, withSpecOption } from './spec-option.ts'

export function register(program: Command): void {
  withSpecOption(program.command('status'))
    .description('release, xo-server (running, uptime, health), Redis, certificate, mounts, last upgrade')
    .option('--json', 'print the status as JSON')
    .addHelpText('after', '\nExit status: 0 when healthy, 1 when something is wrong (listed at the end).')
    .action(async (opts: { spec?: string; json?: boolean }) => {
      const report = await status(readSpec(opts), hostView('/'))
      process.exitCode = report.ok ? EXIT.ok : EXIT.failed
      if (opts.json) return printJson(report)
      for (const l of formatStatus(report, { green, red, yellow, dim })) say(l)
    })
}
