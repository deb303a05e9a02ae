// `xoa upgrade`: update, build, back up, switch with a health gate, roll back on failure; then one screen
// saying what happened and what to do next. What the scheduled xoa-update.service runs.
import { Writable } from 'node:stream'
import type { Command } from 'commander'
import { detectServiceControl } from '../backup/services.ts'
import { Progress, seconds } from '../build/progress.ts'
import { systemdServerControl } from '../run/server-control.ts'
import { UpgradeError, upgrade } from '../run/upgrade.ts'
import { type UpgradeRecord, upgradeRecordFile } from '../run/upgrade-record.ts'
import { statePaths } from '../spec/paths.ts'
import type { Spec } from '../spec/schema.ts'
import { XoaError } from '../util/errors.ts'
import { positiveSeconds } from './flags.ts'
import { bold, green, printJson, red, say } from './output.ts'
import { readSpec, type SpecOpts, withSpecOption } from './spec-option.ts'
import { parseChannel } from './update.ts'

interface Opts extends SpecOpts {
  channel?: string
  healthTimeout: string
  retry?: boolean
  allowDowngrade?: boolean
  json?: boolean
}

export function register(program: Command): void {
  withSpecOption(program.command('upgrade'))
    .description(
      'update the pin, build, back up, switch with a health check; roll back automatically on failure',
    )
    .option('--channel <name>', 'latest | stable | master (default: updates.channel in the spec)')
    .option('--health-timeout <seconds>', 'how long the new release gets to become healthy', '180')
    .option('--retry', 'try again a release that failed its health check before')
    .option('--allow-downgrade', 'go to the channel even when it is behind the pin (never done otherwise)')
    .option('--json', 'print the record of the run as JSON')
    .addHelpText(
      'after',
      '\nNothing new on the channel: nothing is built, backed up or restarted (exit 0). A channel behind the pin\n' +
        'is nothing to do as well, unless --allow-downgrade.\n' +
        'The last run is kept in <xo.stateDir>/logs/upgrade-last.json.',
    )
    .action(async (opts: Opts) => {
      const channel = parseChannel(opts.channel)
      const timeout = positiveSeconds('--health-timeout', opts.healthTimeout)
      const spec = readSpec(opts)
      const stamp = new Date().toISOString().replace(/[:.]/g, '-')
      const logFile = `${statePaths(spec).logs}/upgrade-${stamp}.log`
      const sink = new Writable({ write: (_c, _e, cb) => cb() })
      const progress = opts.json
        ? new Progress('plain', logFile, sink, sink)
        : new Progress(process.stdout.isTTY ? 'tty' : 'plain', logFile)
      const log = opts.json ? () => {} : (l: string) => say(l)
      try {
        const { record } = await upgrade(spec, {
          channel,
          control: systemdServerControl(),
          services: await detectServiceControl(spec),
          healthTimeoutMs: timeout * 1000,
          retry: opts.retry,
          allowDowngrade: opts.allowDowngrade,
          progress,
          log,
        })
        if (opts.json) return printJson(record)
        printSummary(spec, record)
      } catch (e) {
        if (!(e instanceof UpgradeError)) throw e
        if (opts.json) printJson(e.record)
        else printSummary(spec, e.record)
        if (e.record.outcome === 'failed' && !e.hint)
          throw new XoaError(`upgrade failed: ${e.message}`, {
            exitCode: e.exitCode,
            hint: `nothing was switched; the log is ${logFile}`,
          })
        throw e
      } finally {
        progress.close()
      }
    })
}

const side = (s: UpgradeRecord['fromRelease']) =>
  s ? `${s.version}  ${s.rev.slice(0, 10)}${s.release ? `  (${s.release})` : ''}` : '-'

const health = (h: UpgradeRecord['health']) =>
  h ? (h.healthy ? `ping ok, sign-in ${h.signIn ? 'ok' : 'not checked'}` : `FAILED: ${h.reason}`) : '-'

/** The one screen at the end. */
export function printSummary(spec: Spec, r: UpgradeRecord): void {
  const title: Record<UpgradeRecord['outcome'], string> = {
    'nothing-to-do': green('nothing to do'),
    upgraded: green('upgraded'),
    'rolled-back': red('ROLLED BACK'),
    'held-back': red('held back'),
    failed: red('FAILED'),
  }
  say()
  say(bold(`xoa upgrade (channel ${r.channel}): ${title[r.outcome]}`))
  if (r.outcome === 'nothing-to-do') {
    say(`  ${r.reason}`)
    say(`  nothing built, backed up or restarted`)
    return
  }
  say(`  from     ${side(r.fromRelease)}`)
  say(`  to       ${side(r.toRelease)}`)
  if (r.backup) say(`  backup   ${r.backup}`)
  if (r.built !== undefined)
    say(
      `  build    ${r.built ? seconds(r.buildMs ?? 0) : 'already built'}${r.buildLog ? `  (log: ${r.buildLog})` : ''}`,
    )
  if (r.health) say(`  health   ${health(r.health)}`)
  if (r.restored) say(`  restored ${health(r.restored)}`)
  if (r.reason && r.outcome !== 'upgraded') say(`  why      ${r.reason}`)
  say(`  record   ${upgradeRecordFile(spec)}`)
  const next: Record<UpgradeRecord['outcome'], string> = {
    upgraded: `check the web UI; if something is wrong: xoa rollback (and xoa restore ${r.backup ?? 'FILE'})`,
    'rolled-back':
      'journalctl -u xo-server -n 100; fix, then xoa upgrade --retry (or wait for a newer release)',
    'held-back': 'xoa upgrade --retry to try this release again',
    failed: 'read the log above; nothing was switched',
    'nothing-to-do': '',
  }
  say(`next: ${next[r.outcome]}`)
}
