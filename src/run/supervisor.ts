// Child processes of `xoa up`: started in order, their output prefixed with their name, stopped in reverse
// order with SIGTERM and a deadline. Works as PID 1 in a container: signals are handled explicitly.
import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'

export interface ChildSpec {
  name: string
  command: string
  args: string[]
  env: Record<string, string>
  cwd?: string
  uid?: number
  gid?: number
  /** How long SIGTERM gets before SIGKILL. */
  stopTimeoutMs?: number
}

export interface Supervised {
  name: string
  child: ChildProcess
  exited: Promise<number | null>
  running(): boolean
  stop(): Promise<void>
}

export function startChild(spec: ChildSpec, log: (line: string) => void): Supervised {
  const child = spawn(spec.command, spec.args, {
    env: spec.env,
    cwd: spec.cwd,
    uid: spec.uid,
    gid: spec.gid,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  for (const stream of [child.stdout, child.stderr]) {
    if (stream) createInterface({ input: stream }).on('line', (l) => log(`${spec.name} | ${l}`))
  }
  let alive = true
  const exited = new Promise<number | null>((resolve) => {
    child.once('error', (e) => {
      log(`${spec.name} | failed to start: ${e.message}`)
      alive = false
      resolve(null)
    })
    child.once('exit', (code, signal) => {
      alive = false
      resolve(code ?? (signal ? 128 : null))
    })
  })
  return {
    name: spec.name,
    child,
    exited,
    running: () => alive,
    async stop() {
      if (!alive) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), spec.stopTimeoutMs ?? 15_000)
      await exited
      clearTimeout(timer)
    },
  }
}

/** Stop everything in reverse start order. */
export async function stopAll(children: Supervised[]): Promise<void> {
  for (const c of [...children].reverse()) await c.stop()
}

/** Resolve when SIGINT or SIGTERM arrives (once). */
export function onStopSignal(): { signalled: Promise<NodeJS.Signals>; dispose(): void } {
  let resolveFn: (s: NodeJS.Signals) => void = () => {}
  const signalled = new Promise<NodeJS.Signals>((r) => {
    resolveFn = r
  })
  const handler = (s: NodeJS.Signals) => resolveFn(s)
  process.on('SIGINT', handler)
  process.on('SIGTERM', handler)
  return {
    signalled,
    dispose() {
      process.off('SIGINT', handler)
      process.off('SIGTERM', handler)
    },
  }
}
