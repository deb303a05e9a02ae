// `xoa up`: run XO in the foreground (containers, trying it out). Ctrl-C / SIGTERM stop everything cleanly.
import type { Command } from 'commander'
import { build } from '../build/builder.ts'
import { Progress } from '../build/progress.ts'
import { upUntilStopped } from '../run/up.ts'
import { statePaths } from '../spec/paths.ts'
import { positiveSeconds } from './flags.ts'
import { readSpec, specPathOf, withSpecOption } from './spec-option.ts'

interface Opts {
  spec?: string
  build: boolean
  healthTimeout: string
}

export function register(program: Command): void {
  withSpecOption(program.command('up'))
    .description(
      'run XO in the foreground: build if needed, Redis, mount broker, admin, xo-server; health-gated',
    )
    .option('--no-build', 'serve the current release as it is; do not build')
    .option('--health-timeout <seconds>', 'how long xo-server gets to become healthy', '180')
    .addHelpText(
      'after',
      '\nWorks as PID 1 in a container: logs go to stdout, SIGINT/SIGTERM stop xo-server, the broker and Redis.\n' +
        'A newly built release that is not healthy in time is rolled back; the previous one keeps serving.',
    )
    .action(async (opts: Opts) => {
      const timeout = positiveSeconds('--health-timeout', opts.healthTimeout)
      const spec = readSpec(opts)
      const log = (l: string) => process.stdout.write(`${l}\n`)
      const stamp = new Date().toISOString().replace(/[:.]/g, '-')
      const code = await upUntilStopped(spec, {
        specPath: specPathOf(opts),
        healthTimeoutMs: timeout * 1000,
        log,
        build: opts.build
          ? async () => {
              const progress = new Progress('plain', `${statePaths(spec).logs}/build-${stamp}.log`)
              try {
                return (await build(spec, { switch: false }, progress)).release
              } finally {
                progress.close()
              }
            }
          : undefined,
      })
      process.exitCode = code
    })
}
