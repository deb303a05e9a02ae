import type { Command } from 'commander'
import { printJson, say } from './output.ts'
import { readSpec, specPathOf, withSpecOption } from './spec-option.ts'

export function register(program: Command): void {
  withSpecOption(program.command('validate'))
    .description('check the spec; print it with defaults filled (--json) or say it is valid')
    .option('--json', 'print the complete spec, defaults filled, as JSON')
    .action((opts: { spec?: string; json?: boolean }) => {
      const spec = readSpec(opts)
      if (opts.json) printJson(spec)
      else say(`${specPathOf(opts)}: valid`)
    })
}
