// `xoa rollback [ID]`: make an earlier release current again (non-interactive; no ID = previous).
import type { Command } from 'commander'
import { lockStore, rollback } from '../build/store.ts'
import { statePaths } from '../spec/paths.ts'
import { say } from './output.ts'
import { readSpec, withSpecOption } from './spec-option.ts'

export function register(program: Command): void {
  withSpecOption(program.command('rollback'))
    .description('make release ID current (default: the previous one); the one left becomes previous')
    .argument('[id]', 'release id from `xoa releases`')
    .option('--json', 'print {from, to} as JSON')
    .action(async (id: string | undefined, opts: { spec?: string; json?: boolean }) => {
      const paths = statePaths(readSpec(opts))
      const lock = await lockStore(paths)
      try {
        const r = await rollback(paths, id)
        if (opts.json) say(JSON.stringify(r))
        else say(`current: ${r.to}${r.from ? ` (was ${r.from}, now previous)` : ''}`)
      } finally {
        await lock.release()
      }
    })
}
