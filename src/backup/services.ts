// Stopping and starting what writes to Redis and the data dir while a backup or restore runs.
// Small on purpose so `xoa up` (its own supervisor) and `xoa upgrade` can pass their own.
import { existsSync } from 'node:fs'
import { execa } from 'execa'
import { tool } from '../platform/tool.ts'
import { upHolder } from '../run/up-lock.ts'
import type { Spec } from '../spec/schema.ts'
import { XoaError } from '../util/errors.ts'

export interface ServiceControl {
  /** Shown to the user, e.g. "systemd unit xo-server". */
  readonly name: string
  /** False when this control cannot start anything (no-op): restore then skips the health check. */
  readonly manages: boolean
  /** True when a live `xoa up` supervises xo-server: it cannot be stopped from here. */
  readonly underUp?: boolean
  isActive(): Promise<boolean>
  stop(): Promise<void>
  start(): Promise<void>
}

export const XO_SERVER_UNIT = 'xo-server.service'

/** For foreground runs and tests: nothing to stop, nothing started, so nothing to health-check. */
export const noServiceControl: ServiceControl = {
  name: 'none (xo-server is not under systemd)',
  manages: false,
  isActive: async () => false,
  stop: async () => {},
  start: async () => {},
}

export function systemdServiceControl(unit = XO_SERVER_UNIT): ServiceControl {
  const run = async (verb: string) => {
    const r = await execa(tool('systemctl'), [verb, unit], { reject: false })
    if (r.exitCode !== 0)
      throw new XoaError(
        `systemctl ${verb} ${unit} failed: ${String(r.stderr).trim() || `exit ${r.exitCode}`}`,
        {
          hint: `journalctl -u ${unit} -n 50`,
        },
      )
  }
  return {
    name: `systemd unit ${unit}`,
    manages: true,
    isActive: async () =>
      (await execa(tool('systemctl'), ['is-active', '--quiet', unit], { reject: false })).exitCode === 0,
    stop: () => run('stop'),
    start: () => run('start'),
  }
}

/**
 * xo-server supervised by a live `xoa up`, which this process may not stop: it reads as running, so backup takes
 * it live, and stop() refuses — restore calls it before it changes anything.
 */
export function upServiceControl(upPid: number | undefined): ServiceControl {
  return {
    name: `xoa up (pid ${upPid ?? '?'})`,
    manages: false,
    underUp: true,
    isActive: async () => true,
    stop: async () => {
      throw new XoaError(
        `xoa up (pid ${upPid ?? '?'}) is running xo-server on this state dir; nothing was changed`,
        {
          hint: 'stop xoa up first, or restore before it starts',
        },
      )
    },
    start: async () => {},
  }
}

/**
 * systemd when it is PID 1 and the xo-server unit is installed; else the live `xoa up` holding this state dir's
 * lock (src/run/up-lock.ts); otherwise the no-op control.
 */
export async function detectServiceControl(spec: Spec): Promise<ServiceControl> {
  if (existsSync('/run/systemd/system')) {
    const r = await execa(tool('systemctl'), ['cat', XO_SERVER_UNIT], { reject: false })
    if (r.exitCode === 0) return systemdServiceControl()
  }
  const up = await upHolder(spec)
  return up ? upServiceControl(up.pid) : noServiceControl
}
