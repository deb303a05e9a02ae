// Entry point of the `xoa` CLI: builds the command table and maps failures to exit codes.
import { Command, CommanderError } from 'commander'
import { SpecError } from '../spec/load.ts'
import { EXIT, XoaError } from '../util/errors.ts'
import { commands } from './commands.ts'
import { red } from './output.ts'

declare const XOA_VERSION: string | undefined
const version = typeof XOA_VERSION === 'string' ? XOA_VERSION : '0.0.0-dev'

export async function main(argv: string[]): Promise<number> {
  const program = new Command('xoa')
    .description(
      'Declarative Xen Orchestra Community Edition: one spec in, a running, healthy, hardened XO out',
    )
    .version(version)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
  for (const c of commands) c.register(program)
  try {
    await program.parseAsync(argv, { from: 'user' })
    return process.exitCode === undefined ? EXIT.ok : Number(process.exitCode)
  } catch (e) {
    return report(e)
  }
}

function report(e: unknown): number {
  if (e instanceof CommanderError) {
    // --help and --version arrive here too, with exit code 0.
    return e.exitCode === 0 ? EXIT.ok : EXIT.usage
  }
  if (e instanceof SpecError) {
    process.stderr.write(`${red('invalid spec')}\n${e.message}\n`)
    return EXIT.usage
  }
  if (e instanceof XoaError) {
    process.stderr.write(`xoa: ${e.message}\n${e.hint ? `next: ${e.hint}\n` : ''}`)
    return e.exitCode
  }
  process.stderr.write(`xoa: unexpected error: ${(e as Error)?.stack ?? String(e)}\n`)
  return EXIT.failed
}

// `xoa … | head` closes the pipe early: that is the reader's choice, not a failure.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0)
  throw e
})

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code
})
