// `xoa plan`: what apply would change, one line per resource (+ create, ~ change, = unchanged, ! skipped).
import { readFileSync, statSync } from 'node:fs'
import type { Command } from 'commander'
import { planChanges } from '../plan/apply.ts'
import { desired, installedSpecPath, laterProvided } from '../plan/desired.ts'
import { changeLine, changesJson, planSummary } from '../plan/format.ts'
import { detectHost, type Host } from '../plan/host.ts'
import type { Resource } from '../plan/resources.ts'
import { currentPlatform } from '../platform/load.ts'
import { DEFAULT_RENDER_ENV, type RenderEnv } from '../render/types.ts'
import { shippedPinFile } from '../source/pin.ts'
import { statePaths } from '../spec/paths.ts'
import type { Spec } from '../spec/schema.ts'
import { UsageError } from '../util/errors.ts'
import { probeJson, probeLines, probeXoState, type XoStateProbe } from '../xo-state/connect.ts'
import { xoPlanLines } from '../xo-state/format.ts'
import { xoStateDeclared } from '../xo-state/reconcile.ts'
import { dim, green, printJson, red, say, yellow } from './output.ts'
import { readSpec, specPathOf, withSpecOption } from './spec-option.ts'

export interface TargetOpts {
  spec?: string
  root?: string
  json?: boolean
}

export interface Target {
  spec: Spec
  host: Host
  env: RenderEnv
  resources: Resource[]
  providedLater: string[]
  /** Where apply records the stock units it masked (xoa's state). */
  maskRecord: string
}

/** Spec (validated first: a bad spec stops everything before the host is touched), host and resources. */
export function loadTarget(opts: TargetOpts): Target {
  const spec = readSpec(opts)
  const path = specPathOf(opts)
  const source = { path, text: readFileSync(path, 'utf8') }
  if (opts.root !== undefined && !statSync(opts.root, { throwIfNoEntry: false })?.isDirectory())
    throw new UsageError(`--root ${opts.root}: not a directory`, `mkdir -p ${opts.root}`)
  const host = detectHost(opts.root ?? '/')
  // The platform apply runs on is the one the units carry (XOA_PLATFORM), so their xoa runs on it too.
  const env = { ...DEFAULT_RENDER_ENV, specPath: installedSpecPath(source), platform: currentPlatform() }
  const pinPath = shippedPinFile()
  const shippedPin = pinPath ? { path: pinPath, text: readFileSync(pinPath, 'utf8') } : undefined
  return {
    spec,
    host,
    env,
    resources: desired(spec, env, source, { shippedPin }),
    providedLater: laterProvided(spec, env),
    maskRecord: statePaths(spec).maskedUnits,
  }
}

export function withTargetOptions(cmd: Command): Command {
  return withSpecOption(cmd)
    .option(
      '--root <dir>',
      'work on a prefix instead of this host: every path under DIR, users in DIR/etc/passwd',
    )
    .option('--json', 'machine-readable output')
}

export function colourLine(line: string): string {
  const c = line[0]
  return c === '+'
    ? green(line)
    : c === '~'
      ? yellow(line)
      : c === 'x'
        ? red(line)
        : c === '=' || c === '!'
          ? dim(line)
          : line
}

export function register(program: Command): void {
  withTargetOptions(program.command('plan'))
    .description('show what `xoa apply` would change: one line per resource with + ~ = !, then a summary')
    .action(async (opts: TargetOpts) => {
      const t = loadTarget(opts)
      const changes = await planChanges(t.host, t.resources)
      // XO's own state is asked of the running XO; a prefix has none.
      const xo: XoStateProbe =
        opts.root === undefined
          ? await probeXoState(t.spec)
          : xoStateDeclared(t.spec)
            ? { status: 'unreachable', reason: 'XO state is checked on the live host only, not under --root' }
            : { status: 'none' }
      if (opts.json) return printJson({ ...changesJson(changes), xoState: probeJson(xo) })
      for (const c of changes) say(colourLine(changeLine(c)))
      say(planSummary(changes))
      for (const l of probeLines(xo, xoPlanLines)) say(colourLine(l))
    })
}
