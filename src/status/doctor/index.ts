// `xoa doctor` as a function: load the spec, observe the shared facts once (xo-server, Redis), run every
// check, and sum up. Exit 1 when any finding fails.
import { hostLayout } from '../../host/layout.ts'
import { loadSpec, SpecError } from '../../spec/load.ts'
import { type HostView, hostView } from '../host.ts'
import { observeRedis } from '../redis-facts.ts'
import { observeServer } from '../server.ts'
import { brokerCheck, fuseCheck, sshdCheck, vhdimountCheck } from './host-tools.ts'
import { configCheck, mountPathCheck, permissionsCheck, releaseCheck } from './install.ts'
import { certificateCheck, healthCheck, portsCheck, redisCheck, usersCheck } from './runtime.ts'
import { stockRedisCheck } from './stock-redis.ts'
import { type Check, type Finding, fail, type Level, ok } from './types.ts'

/** In the order a person would troubleshoot: what is on disk, what runs, what the host provides. */
export const checks: Check[] = [
  releaseCheck,
  configCheck,
  permissionsCheck,
  mountPathCheck,
  redisCheck,
  stockRedisCheck,
  usersCheck,
  certificateCheck,
  portsCheck,
  fuseCheck,
  vhdimountCheck,
  brokerCheck,
  sshdCheck,
  healthCheck,
]

export interface DoctorReport {
  ok: boolean
  mode?: 'systemd' | 'foreground'
  counts: Record<Level, number>
  findings: Finding[]
}

export interface DoctorOptions {
  specPath: string
  root?: string
  now?: Date
}

export async function runDoctor(opts: DoctorOptions): Promise<DoctorReport> {
  const host: HostView = hostView(opts.root)
  let spec: ReturnType<typeof loadSpec>
  try {
    spec = loadSpec(opts.specPath)
  } catch (e) {
    if (!(e instanceof SpecError)) throw e
    return summarise(
      e.problems.map((p) =>
        fail(
          'spec',
          `${p.field ? `${p.field}: ` : ''}${p.message}`,
          `edit ${opts.specPath}, then xoa validate --spec ${opts.specPath}`,
        ),
      ),
    )
  }
  const server = await observeServer(spec, host)
  const redis = await observeRedis(host.path(spec.redis.socket), spec.webAdmin.email)
  const layout = hostLayout(spec, server.runMode)
  const ctx = { spec, specPath: opts.specPath, host, now: opts.now ?? new Date(), server, redis, layout }
  const findings: Finding[] = [ok('spec', `${opts.specPath} is valid`)]
  for (const c of checks) {
    try {
      findings.push(...(await c.run(ctx)))
    } catch (e) {
      // A check that cannot even look is a finding, not a crash that hides every other check.
      findings.push(fail(c.name, `could not check: ${(e as Error).message}`, 'run xoa doctor as root'))
    }
  }
  return { ...summarise(findings), mode: server.mode }
}

export function summarise(findings: Finding[]): DoctorReport {
  const counts: Record<Level, number> = { ok: 0, warn: 0, fail: 0, skip: 0 }
  for (const f of findings) counts[f.level]++
  return { ok: counts.fail === 0, counts, findings }
}
