// Is xo-server running, since when, under what? systemd's view when systemd runs the host; otherwise the lock
// `xoa up` holds (src/run/up-lock.ts), which says which process is its xo-server. Never a command line: any local
// user can start a process that looks like xo-server. Also tells who else holds xo-server's ports.
import { existsSync } from 'node:fs'
import { execa } from 'execa'
import { modeOf, NIXOS_MARKER, type RunMode, XO_SERVER_UNIT_FILE } from '../host/layout.ts'
import { tool } from '../platform/tool.ts'
import { type Listener, serverListeners } from '../run/ports.ts'
import { upHolder } from '../run/up-lock.ts'
import type { Spec } from '../spec/schema.ts'
import { exists, type HostView } from './host.ts'
import { type ProcessInfo, portHolders, processStartedAt } from './procfs.ts'

/** The old name (src/host/layout.ts has it). */
export const SERVER_UNIT_FILE = XO_SERVER_UNIT_FILE

export interface UnitState {
  activeState: string
  since?: string
  mainPid?: number
  unitFileState?: string
}

/** Parse `systemctl show -p … --timestamp=unix` (Key=Value lines; timestamps as "@<seconds>"). */
export function parseShow(text: string): UnitState {
  const kv = new Map(
    text
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const),
  )
  const ts = /^@(\d+)/.exec(kv.get('ActiveEnterTimestamp') ?? '')?.[1]
  const pid = Number(kv.get('MainPID'))
  return {
    activeState: kv.get('ActiveState') || 'unknown',
    since: ts && ts !== '0' ? new Date(Number(ts) * 1000).toISOString() : undefined,
    mainPid: pid > 0 ? pid : undefined,
    unitFileState: kv.get('UnitFileState') || undefined,
  }
}

/** systemd is PID 1 of the host we look at (never true under a --root prefix). */
export function systemdRunning(host: HostView): boolean {
  return host.live && existsSync('/run/systemd/system')
}

export async function unitState(unit: string): Promise<UnitState | undefined> {
  const r = await execa(
    tool('systemctl'),
    ['show', unit, '--timestamp=unix', '-p', 'ActiveState,ActiveEnterTimestamp,MainPID,UnitFileState'],
    { reject: false },
  )
  return r.exitCode === 0 ? parseShow(r.stdout) : undefined
}

export interface PortUse {
  listener: Listener
  holders: ProcessInfo[]
}

export interface ServerFacts {
  /** "systemd" when xoa apply (or the NixOS module) installed the unit, else "foreground" (`xoa up`). */
  mode: 'systemd' | 'foreground'
  /** The way of running, for hostLayout: systemd, foreground, or nixos (a systemd host whose files differ). */
  runMode: RunMode
  /** systemd's view; undefined when systemd does not run here. */
  unit?: UnitState
  ports: PortUse[]
  running: boolean
  pid?: number
  since?: string
  /** The `xoa up` holding this state dir's lock, when one does (it may not run xo-server yet). */
  upPid?: number
}

/** A port holder is xo-server when it is the process systemd or `xoa up` says is xo-server. */
export const isXoServer = (p: ProcessInfo, server: Pick<ServerFacts, 'running' | 'pid'>) =>
  server.running && server.pid !== undefined && p.pid === server.pid

export async function observeServer(spec: Spec, host: HostView): Promise<ServerFacts> {
  const runMode = modeOf({
    nixos: exists(host, NIXOS_MARKER),
    unitInstalled: exists(host, XO_SERVER_UNIT_FILE),
  })
  const mode = runMode === 'foreground' ? 'foreground' : 'systemd'
  const unit = systemdRunning(host) ? await unitState('xo-server') : undefined
  // Ports are the live machine's: with a --root prefix they still say whether something listens here.
  const ports = serverListeners(spec).map((listener) => ({ listener, holders: portHolders(listener.port) }))
  if (unit)
    return {
      mode,
      runMode,
      unit,
      ports,
      running: unit.activeState === 'active',
      pid: unit.mainPid,
      since: unit.since,
    }
  // The lock is the live machine's too, and only what `xoa up` runs itself: never under a --root prefix.
  const up = host.live ? await upHolder(spec) : undefined
  return {
    mode,
    runMode,
    ports,
    running: up?.server !== undefined,
    pid: up?.server?.pid,
    since: up?.server ? (processStartedAt(up.server.pid)?.toISOString() ?? up.server.since) : undefined,
    upPid: up?.pid,
  }
}
