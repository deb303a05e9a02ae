// `xoa logs`: the seed's xoa-logs.sh. On systemd, journalctl over xo-build, xo-server, redis-xo (and friends),
// run in the foreground so the user gets journalctl's own pager and follow. Without systemd, the newest build
// log: `xoa up` writes xo-server's and Redis' output to its own stdout.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import type { Command } from 'commander'
import { tool } from '../platform/tool.ts'
import { statePaths } from '../spec/paths.ts'
import { journalctlCommand, newestBuildLog, shellLine, tailCommand } from '../status/logs.ts'
import { UsageError, XoaError } from '../util/errors.ts'
import { say, warn } from './output.ts'
import { readSpec, withSpecOption } from './spec-option.ts'

interface Opts {
  spec?: string
  follow?: boolean
  lines?: string
  unit?: string[]
  print?: boolean
}

export function register(program: Command): void {
  withSpecOption(program.command('logs'))
    .description('show (or follow) the logs of xo-build, xo-server and redis-xo')
    .option('-f, --follow', 'keep printing new lines')
    .option('-n, --lines <n>', 'how many recent lines')
    .option(
      '-u, --unit <unit>',
      'only this unit (repeatable): xo-server, xo-build, redis-xo, xo-bootstrap, xoa-mountd',
      (v: string, acc: string[] = []) => [...acc, v],
    )
    .option('--print', 'print the command instead of running it')
    .addHelpText(
      'after',
      '\nOn systemd this runs: journalctl -u xo-build -u xo-server -u redis-xo -u xo-bootstrap [-u xoa-mountd] -e [-f]',
    )
    .action(async (opts: Opts) => {
      const lines = opts.lines === undefined ? undefined : Number(opts.lines)
      if (lines !== undefined && !(Number.isInteger(lines) && lines >= 0))
        throw new UsageError(`--lines: expected a whole number, got "${opts.lines}"`)
      const spec = readSpec(opts)
      const o = { follow: opts.follow === true, lines, units: opts.unit }
      let argv: string[]
      if (existsSync('/run/systemd/system')) {
        try {
          argv = journalctlCommand(spec, o)
        } catch (e) {
          throw new UsageError((e as Error).message)
        }
      } else {
        const logs = statePaths(spec).logs
        const file = newestBuildLog(logs)
        warn('systemd is not running here: xoa up logs xo-server and Redis to its own stdout.')
        if (!file)
          throw new XoaError(`no build log under ${logs}`, {
            hint: 'the output of `xoa up` (or `docker logs`) has the rest',
          })
        warn(`newest build log: ${file}`)
        argv = tailCommand(file, o)
      }
      if (opts.print) return say(shellLine(argv))
      process.exitCode = await run(argv)
    })
}

/** Run in the foreground with our terminal; Ctrl-C belongs to the pager or to follow, not to us. */
function run(argv: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    // journalctl where the platform has it (--print shows the seed's bare command line).
    const file = argv[0] === 'journalctl' ? tool('journalctl') : argv[0]!
    const child = spawn(file, argv.slice(1), { stdio: 'inherit' })
    const ignore = () => {}
    process.on('SIGINT', ignore)
    child.once('error', (e) => {
      process.off('SIGINT', ignore)
      reject(new XoaError(`cannot run ${argv[0]}: ${e.message}`))
    })
    child.once('exit', (code, signal) => {
      process.off('SIGINT', ignore)
      resolve(code ?? (signal === 'SIGINT' ? 0 : 1))
    })
  })
}
