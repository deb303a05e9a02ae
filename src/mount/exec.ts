// Running an allowed plan: no shell, the fixed environment only, pinned descriptors at their fd numbers.
import { execa } from 'execa'
import type { BrokerReply } from './protocol.ts'
import type { ExecPlan } from './types.ts'

export const EXEC_TIMEOUT_MS = 120_000
const MAX_OUTPUT = 1024 * 1024

/** Runs a plan; `fds` maps child fd numbers (3, 4…) to descriptors open in the daemon. */
export type Executor = (plan: ExecPlan, fds: Map<number, number>) => Promise<BrokerReply>

export const runPlan: Executor = async (plan, fds) => {
  const extra = Math.max(2, ...fds.keys())
  const stdio: (string | number)[] = ['ignore', 'pipe', 'pipe']
  for (let n = 3; n <= extra; n++) stdio.push(fds.get(n) ?? 'ignore')
  const r = await execa(plan.file, plan.argv, {
    env: plan.env,
    extendEnv: false,
    stdio: stdio as never,
    timeout: EXEC_TIMEOUT_MS,
    maxBuffer: MAX_OUTPUT,
    reject: false,
    stripFinalNewline: false,
    encoding: 'utf8',
  })
  const code = typeof r.exitCode === 'number' ? r.exitCode : r.timedOut ? 124 : 1
  const stderr =
    r.failed && r.exitCode === undefined ? `${r.stderr ?? ''}${r.shortMessage}\n` : (r.stderr ?? '')
  return { code, stdout: String(r.stdout ?? ''), stderr: String(stderr) }
}
