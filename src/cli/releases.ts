// `xoa releases`: the releases in the store, newest first, with current and previous marked.
import type { Command } from 'commander'
import { seconds } from '../build/progress.ts'
import { listReleases } from '../build/store.ts'
import { statePaths } from '../spec/paths.ts'
import { bold, printJson, say } from './output.ts'
import { readSpec, withSpecOption } from './spec-option.ts'

export function register(program: Command): void {
  withSpecOption(program.command('releases'))
    .description('list the built releases (current marked "*", previous "-")')
    .option('--json', 'print them as a JSON array')
    .action((opts: { spec?: string; json?: boolean }) => {
      const releases = listReleases(statePaths(readSpec(opts)))
      if (opts.json) {
        printJson(
          releases.map((r) => ({ ...r.manifest, dir: r.dir, current: r.current, previous: r.previous })),
        )
        return
      }
      if (releases.length === 0) {
        say('no releases yet; build one with `xoa build`')
        return
      }
      for (const r of releases) {
        const m = r.manifest
        const mark = r.current ? '*' : r.previous ? '-' : ' '
        const line = `${mark} ${r.id}  node ${m.node}  built ${m.endedAt.slice(0, 16).replace('T', ' ')}  in ${seconds(m.durationMs)}  ${Math.round(m.sizeBytes / 1024 / 1024)} MB`
        say(r.current ? bold(line) : line)
      }
    })
}
