// `xoa apply`: converge this host (or --root DIR) to the spec and say what changed. Idempotent.
import { createInterface } from 'node:readline/promises'
import type { Command } from 'commander'
import { apply, planChanges } from '../plan/apply.ts'
import { applySummary, changeLine, changesJson, planSummary } from '../plan/format.ts'
import { XoaError } from '../util/errors.ts'
import { printJson, say } from './output.ts'
import { colourLine, loadTarget, type TargetOpts, withTargetOptions } from './plan.ts'

async function confirmed(): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout })
  try {
    return /^y(es)?$/i.test((await rl.question('Apply these changes? [y/N] ')).trim())
  } finally {
    rl.close()
  }
}

export function register(program: Command): void {
  withTargetOptions(program.command('apply'))
    .description(
      'converge the host to the spec: packages, accounts, dirs, files, secrets, units; prints what changed',
    )
    .option('-y, --yes', 'do not ask for confirmation on a terminal')
    .action(async (opts: TargetOpts & { yes?: boolean }) => {
      const t = loadTarget(opts)
      if (process.getuid?.() !== 0)
        throw new XoaError('apply changes owners and accounts and must run as root', {
          hint: 'sudo xoa apply',
        })
      if (process.stdin.isTTY && !opts.yes && !opts.json) {
        const preview = await planChanges(t.host, t.resources)
        const pending = preview.filter((c) => c.action !== 'ok' && c.action !== 'skip')
        if (pending.length === 0) return say(applySummary(preview))
        for (const c of pending) say(colourLine(changeLine(c)))
        say(planSummary(preview))
        if (!(await confirmed()))
          throw new XoaError('cancelled: nothing was changed', { hint: 'xoa apply --yes' })
      }
      const changes = await apply(t.host, t.resources, {
        providedLater: t.providedLater,
        maskRecord: t.maskRecord,
        onChange: opts.json ? undefined : (c) => say(colourLine(changeLine(c))),
      })
      if (opts.json) printJson(changesJson(changes))
      else say(applySummary(changes))
    })
}
