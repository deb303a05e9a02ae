// `xoa state plan|apply`: XO's own state (plugins, pools, remotes, users, groups, ACLs) against the spec's
// xoState section, through XO's API, with the same + ~ - = ! lines as file plans (docs/xo-state.md).
import { createInterface } from 'node:readline/promises'
import type { Command } from 'commander'
import { localEndpoint, waitHealthy } from '../run/health.ts'
import type { Spec } from '../spec/schema.ts'
import { XoaError } from '../util/errors.ts'
import type { XoApi } from '../xo-state/api.ts'
import { adminCredentials, type OpenXoApi, withXo } from '../xo-state/connect.ts'
import {
  xoApplySummary,
  xoChangeLine,
  xoChangesJson,
  xoPlanLines,
  xoPlanSummary,
} from '../xo-state/format.ts'
import { applyXoStateRun, planXoState, xoStateWanted } from '../xo-state/reconcile.ts'
import { positiveSeconds } from './flags.ts'
import { printJson, say } from './output.ts'
import { colourLine } from './plan.ts'
import { readSpec, withSpecOption } from './spec-option.ts'

interface Opts {
  spec?: string
  json?: boolean
  yes?: boolean
  wait?: string
}

function requireRoot(what: string): void {
  if (process.getuid?.() !== 0)
    throw new XoaError(`${what} reads secret files and the web admin's password, so it runs as root`, {
      hint: `sudo xoa ${what.replace(/^xoa /, '')}`,
    })
}

/** Where output goes: stdout, or a test's buffer. */
export interface Io {
  say(line: string): void
  printJson(v: unknown): void
}
const STDOUT: Io = { say, printJson }

export async function statePlan(spec: Spec, opts: Opts, open?: OpenXoApi, io: Io = STDOUT): Promise<void> {
  const { say, printJson } = io
  if (!(await xoStateWanted(spec))) return nothingToDo(opts, io)
  const plan = await withXo(spec, (api) => planXoState(spec, api), { open })
  if (opts.json) return printJson(xoChangesJson(plan.changes))
  for (const l of xoPlanLines(plan.changes)) say(colourLine(l))
}

export async function stateApply(spec: Spec, opts: Opts, open?: OpenXoApi, io: Io = STDOUT): Promise<void> {
  const { say, printJson } = io
  if (!(await xoStateWanted(spec))) return nothingToDo(opts, io)
  if (opts.wait !== undefined) await waitForXo(spec, positiveSeconds('--wait', opts.wait))
  const changes = await withXo(
    spec,
    async (api: XoApi) => {
      if (process.stdin.isTTY && !opts.yes && !opts.json) {
        const preview = (await planXoState(spec, api)).changes
        const pending = preview.filter((c) => c.action !== 'ok')
        if (!preview.some((c) => ['create', 'change', 'delete'].includes(c.action))) return preview
        for (const l of pending.map(xoChangeLine)) say(colourLine(l))
        say(xoPlanSummary(preview))
        if (!(await confirmed()))
          throw new XoaError('cancelled: nothing was changed in XO', { hint: 'xoa state apply --yes' })
      }
      return applyXoStateRun(spec, api, {
        onChange: opts.json ? undefined : (c) => c.action !== 'ok' && say(colourLine(xoChangeLine(c))),
        onExport: opts.json ? undefined : (p) => say(`XO's configuration before this run: ${p}`),
      })
    },
    { open },
  )
  if (opts.json) printJson(xoChangesJson(changes))
  else say(xoApplySummary(changes))
}

function nothingToDo(opts: Opts, io: Io): void {
  if (opts.json) io.printJson(xoChangesJson([]))
  else io.say('XO state: the spec declares none and xoa owns none in XO; nothing to do.')
}

/** For the unit after xo-server: xo-server is "started" long before it answers. */
async function waitForXo(spec: Spec, seconds: number): Promise<void> {
  const health = await waitHealthy(localEndpoint(spec), adminCredentials(spec), { timeoutMs: seconds * 1000 })
  if (!health.healthy)
    throw new XoaError(`XO did not become healthy within ${seconds} s: ${health.reason}`, {
      hint: 'xoa status; xoa logs',
    })
}

async function confirmed(): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout })
  try {
    return /^y(es)?$/i.test((await rl.question('Apply these changes to XO? [y/N] ')).trim())
  } finally {
    rl.close()
  }
}

export function register(program: Command): void {
  const state = program
    .command('state')
    .description("XO's own state from the spec's xoState: plugins, pools, remotes, users, groups, ACLs")
  withSpecOption(state.command('plan'))
    .description(
      'show what `xoa state apply` would change in XO: + create, ~ change, - delete, = unchanged, ! skipped',
    )
    .option('--json', 'machine-readable output')
    .action(async (opts: Opts) => {
      const spec = readSpec(opts)
      requireRoot('xoa state plan')
      await statePlan(spec, opts)
    })
  withSpecOption(state.command('apply'))
    .description("make XO match the spec; deletes only what xoa created; saves XO's config export first")
    .option('-y, --yes', 'do not ask for confirmation on a terminal')
    .option('--json', 'machine-readable output')
    .option('--wait <seconds>', 'first wait this long for xo-server to become healthy')
    .action(async (opts: Opts) => {
      const spec = readSpec(opts)
      requireRoot('xoa state apply')
      await stateApply(spec, opts)
    })
}
