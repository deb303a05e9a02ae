// The health-gated switch: make a release current, restart into it, and if it is not healthy in time,
// switch back, restart the old one and say why. Invariant 3: a failed switch leaves the previous release serving.
import { rollback, type StatePaths, switchTo } from '../build/store.ts'
import type { Credentials, Endpoint, HealthReport } from './health.ts'
import { waitHealthy } from './health.ts'

/** How the server is (re)started: systemd on a host, the supervisor under `xoa up`. */
export interface ServerControl {
  restart(): Promise<void>
  /** False once the process has exited (lets the gate fail fast on a crash). */
  running?(): boolean
}

export type GateResult =
  | { switched: true; from?: string; to: string; health: HealthReport }
  | {
      switched: false
      from?: string
      attempted: string
      health: HealthReport
      restored: HealthReport | undefined
    }

export async function switchWithHealthGate(
  paths: StatePaths,
  id: string,
  control: ServerControl,
  check: { endpoint: () => Endpoint; admin?: Credentials; timeoutMs: number },
): Promise<GateResult> {
  const { from } = await switchTo(paths, id)
  await control.restart()
  const health = await waitHealthy(check.endpoint(), check.admin, {
    timeoutMs: check.timeoutMs,
    stillRunning: control.running,
  })
  if (health.healthy) return { switched: true, from, to: id, health }
  if (!from || from === id) return { switched: false, from, attempted: id, health, restored: undefined }
  await rollback(paths, from)
  await control.restart()
  const restored = await waitHealthy(check.endpoint(), check.admin, {
    timeoutMs: check.timeoutMs,
    stillRunning: control.running,
  })
  return { switched: false, from, attempted: id, health, restored }
}
