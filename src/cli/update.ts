// `xoa update`: move the pin (xo-source.json) to what a channel points at upstream, saying what changes.
import { existsSync } from 'node:fs'
import type { Command } from 'commander'
import { CHANNELS, type Channel } from '../source/channels.ts'
import { assertPinWritable, commitPin, writePin } from '../source/pin-write.ts'
import { commitMessage, nextPin, planUpdate, type UpdateReport } from '../source/update.ts'
import { formatUpdateReport, offersNewer, reportJson } from '../source/update-report.ts'
import { validateSpec } from '../spec/load.ts'
import type { Spec } from '../spec/schema.ts'
import { EXIT, UsageError } from '../util/errors.ts'
import { bold, dim, green, printJson, say } from './output.ts'
import { readSpec, type SpecOpts, specPathOf, withSpecOption } from './spec-option.ts'

interface Opts extends SpecOpts {
  channel?: string
  rev?: string
  check?: boolean
  commit?: boolean
  pinFile?: string
  json?: boolean
  maxCommits: string
}

export function parseChannel(value: string | undefined): Channel | undefined {
  if (value === undefined) return undefined
  if (!(CHANNELS as readonly string[]).includes(value))
    throw new UsageError(`--channel: expected one of ${CHANNELS.join(', ')}, got "${value}"`)
  return value as Channel
}

/** With --pin-file and no spec anywhere, defaults are enough (a developer updating a checkout). */
export function specForPin(opts: SpecOpts & { pinFile?: string }): Spec {
  if (opts.pinFile && !opts.spec && !process.env.XOA_SPEC && !existsSync(specPathOf(opts)))
    return validateSpec({})
  return readSpec(opts)
}

export function register(program: Command): void {
  withSpecOption(program.command('update'))
    .description(
      'move the Xen Orchestra pin to the newest commit of a channel; print old → new and the changes',
    )
    .option('--channel <name>', `latest | stable | master (default: updates.channel in the spec)`)
    .option('--rev <rev>', 'pin this upstream commit (or branch) instead of a channel')
    .option(
      '--check',
      `only report: exit ${EXIT.ok} when up to date, ${EXIT.updateAvailable} when the channel has a newer version, ` +
        `${EXIT.channelBehind} when it is behind (works with source.rev in the spec)`,
    )
    .option('--commit', 'commit the rewritten pin file in the git repository it lives in')
    .option(
      '--pin-file <file>',
      'the pin to update (default: source.pinFile in the spec, or the shipped one)',
    )
    .option('--max-commits <n>', 'commits listed before "… and N more"', '20')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nChannels: latest = the newest "feat: release X.Y.Z" commit; stable = the release CHANGELOG.md marks stable;\n' +
        'master = the tip. The pin is only rewritten; build and switch with `xoa upgrade` (or `xoa build`).',
    )
    .action(async (opts: Opts) => {
      const channel = parseChannel(opts.channel)
      const maxCommits = Number(opts.maxCommits)
      if (!Number.isInteger(maxCommits) || maxCommits < 0)
        throw new UsageError(`--max-commits: expected a whole number, got "${opts.maxCommits}"`)
      if (opts.check && opts.commit)
        throw new UsageError('--check only reports; it cannot be used with --commit')
      const spec = specForPin(opts)
      const report = await planUpdate(spec, {
        channel,
        rev: opts.rev,
        pinFile: opts.pinFile,
        maxCommits,
        check: opts.check,
      })
      const upToDate = report.direction === 'up-to-date'

      if (opts.check || upToDate) {
        if (opts.json) printJson(reportJson(report, { pinWritten: false }))
        else {
          printReport(report)
          if (!upToDate && !offersNewer(report))
            say(
              `nothing newer on ${report.channel === 'rev' ? 'that revision' : `channel ${report.channel}`}`,
            )
        }
        process.exitCode = upToDate
          ? EXIT.ok
          : offersNewer(report)
            ? EXIT.updateAvailable
            : EXIT.channelBehind
        return
      }

      assertPinWritable(report.pinFile)
      await writePin(report.pinFile, nextPin(report))
      const message = commitMessage(report)
      const commit = opts.commit ? await commitPin(report.pinFile, message) : undefined
      if (opts.json) return printJson(reportJson(report, { pinWritten: true, commit, message }))
      printReport(report)
      say()
      say(`${green('pin updated')}: ${report.pinFile} → ${report.to.version} (${report.to.rev.slice(0, 10)})`)
      if (commit) say(`${green('committed')} ${commit.slice(0, 10)}: ${message}`)
      say(dim('next: xoa upgrade (backup, build, health-gated switch), or xoa build'))
    })
}

function printReport(report: UpdateReport): void {
  const [head, ...rest] = formatUpdateReport(report)
  say(bold(head ?? ''))
  for (const l of rest) say(l)
}
