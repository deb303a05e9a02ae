// `xoa up` as a child process for tests: wait until it says it is up, stop it, or kill it and its children.
import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { runtimeEnv } from '../build/helpers.ts'
import { XOA_BIN } from '../helpers.ts'

export interface Up {
  child: ChildProcess
  output: () => string
  ready: Promise<void>
  exited: Promise<number | null>
  /** SIGKILL to the whole process group: xoa up *and* its children (Redis, xo-server). */
  kill(): void
}

export function startUp(specFile: string, extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}): Up {
  const args = [XOA_BIN, 'up', '--spec', specFile, '--health-timeout', '60', ...extraArgs]
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...runtimeEnv, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so a test that fails can kill xoa up and everything it started.
    detached: true,
  })
  let out = ''
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString()
      if (/Xen Orchestra is up at/.test(out)) resolve()
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    exited.then((code) => reject(new Error(`xoa up exited ${code} before it was up:\n${out}`)))
  })
  ready.catch(() => {})
  return { child, output: () => out, ready, exited, kill: () => killGroup(child) }
}

function killGroup(child: ChildProcess): void {
  try {
    if (child.pid) process.kill(-child.pid, 'SIGKILL')
  } catch {
    // already gone
  }
}

/** SIGTERM, as a container runtime would send; resolves with the exit code. */
export async function stopUp(u: Up): Promise<number | null> {
  u.child.kill('SIGTERM')
  return u.exited
}

/** A spec for `xoa up` on this machine: every path under `root`, loopback ports, the service account nobody. */
export function upSpec(
  root: string,
  o: { ports: { http: number; https: number }; state?: string; source?: object; webAdmin?: object },
): object {
  return {
    xo: {
      host: '127.0.0.1',
      hostname: 'xo.test',
      port: o.ports.http,
      httpsPort: o.ports.https,
      stateDir: o.state ?? join(root, 'state'),
      dataDir: join(root, 'data'),
      tempDir: join(root, 'tmp'),
      mountsDir: join(root, 'mounts'),
      ssl: { dir: join(root, 'ssl'), key: join(root, 'ssl', 'key.pem'), cert: join(root, 'ssl', 'cert.pem') },
    },
    ...(o.source ? { source: o.source } : {}),
    service: { user: 'nobody', group: 'nogroup' },
    webAdmin: { email: 'ops@example.test', ...o.webAdmin },
    redis: { socket: join(root, 'redis', 'redis.sock'), dir: join(root, 'redis-data') },
    mounts: { mode: 'none' },
  }
}
