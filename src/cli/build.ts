// `xoa build`: build the pinned (or given) revision into a release; by default make it current.

import { existsSync } from 'node:fs'
import type { Command } from 'commander'
import { build, hasCurrent, nextHint } from '../build/builder.ts'
import { Progress, StepFailed } from '../build/progress.ts'
import { openLive } from '../fs/at.ts'
import { lockHolder } from '../fs/lock.ts'
import { UPGRADE_LOCK } from '../host/layout.ts'
import { statePaths } from '../spec/paths.ts'
import type { Spec } from '../spec/schema.ts'
import { XoaError } from '../util/errors.ts'
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
      // xo-build.service runs whenever xo-server (re)starts: during `xoa upgrade` (its backup, its health-gated
      // switch) building and switching to the pin would undo the upgrade's switch. The upgrade owns `current`.
      const upgrading = opts.switch && !opts.rev ? await upgradeRunning(spec) : undefined
      if (upgrading !== undefined) {
        console.log(
          `xoa upgrade or rollback (pid ${upgrading}) is running and owns the switch: nothing built, current left as is`,
        )
        return
      }
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

/** The pid of a running `xoa upgrade` (it holds the upgrade lock in the state dir), if any. */
async function upgradeRunning(spec: Spec): Promise<number | undefined> {
  if (!existsSync(spec.xo.stateDir)) return undefined
  const state = await openLive(spec.xo.stateDir)
  try {
    return await lockHolder(state, UPGRADE_LOCK)
  } finally {
    await state.close()
  }
}
