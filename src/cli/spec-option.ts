// The --spec option every command that needs a spec shares.
import type { Command } from 'commander'
import { DEFAULT_SPEC_PATH, loadSpec } from '../spec/load.ts'
import type { Spec } from '../spec/schema.ts'

export interface SpecOpts {
  spec?: string
}

export function withSpecOption(cmd: Command): Command {
  return cmd.option(
    '-s, --spec <file>',
    `spec file, TOML or .json (default ${DEFAULT_SPEC_PATH}, or $XOA_SPEC)`,
  )
}

export function specPathOf(opts: SpecOpts): string {
  return opts.spec ?? process.env.XOA_SPEC ?? DEFAULT_SPEC_PATH
}

export function readSpec(opts: SpecOpts): Spec {
  return loadSpec(specPathOf(opts))
}
