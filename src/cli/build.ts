// `xoa build`: build the pinned (or given) revision into a release; by default make it current.
import type { Command } from 'commander'
import { build, hasCurrent, nextHint } from '../build/builder.ts'
import { Progress, StepFailed } from '../build/progress.ts'
import { statePaths } from '../spec/paths.ts'
import { XoaError } from './errors.ts'
import { readSpec, withSpecOption } from './spec-option.ts'

interface Opts {
  spec?: string
  json?: boolean
  rev?: string
  switch: boolean
}

export function register(program: Command): void {
  withSpecOption(program.command('build'))
    .description('build Xen Orchestra from the pinned revision into a release (no-op when up to date)')
    .option('--json', 'print progress as JSON events, one per line')
    .option('--rev <rev>', 'build this commit (or ref) instead of the spec/pin revision')
    .option('--no-switch', 'build only; leave the current release as it is')
    .addHelpText(
      'after',
      '\nThe pin is xo-source.json shipped with xoa; source.url / source.rev / source.pinFile in the spec override it.\n' +
        'Releases live in <xo.stateDir>/releases; see them with `xoa releases`, go back with `xoa rollback`.',
    )
    .action(async (opts: Opts) => {
      const spec = readSpec(opts)
      const stamp = new Date().toISOString().replace(/[:.]/g, '-')
      const mode = opts.json ? 'json' : process.stdout.isTTY ? 'tty' : 'plain'
      const progress = new Progress(mode, `${statePaths(spec).logs}/build-${stamp}.log`)
      try {
        const r = await build(spec, { rev: opts.rev, switch: opts.switch }, progress)
        if (r.status === 'up-to-date')
          progress.emit({ event: 'up-to-date', release: r.release, switched: r.switched })
        else
          progress.emit({
            event: 'built',
            release: r.release,
            switched: r.switched,
            durationMs: r.manifest.durationMs,
            pruned: r.pruned,
          })
      } catch (e) {
        if (!(e instanceof StepFailed)) throw e
        const hint = nextHint(e.step, progress.logFile, hasCurrent(spec))
        progress.emit({
          event: 'failed',
          step: e.step,
          message: e.error.message,
          log: progress.logFile,
          tail: progress.lastLines(),
          hint,
        })
        if (e.error instanceof XoaError) throw new XoaError(e.error.message, { hint: e.error.hint ?? hint })
        throw new XoaError(`build failed at step "${e.step}": ${e.error.message}`, { hint })
      } finally {
        progress.close()
      }
    })
}
