// "Does `xoa up` run for this state dir?", answered by something no other user can fake. Node has no flock, so
// `xoa up` listens on a Unix socket in `<stateDir>/run`, a directory it owns with mode 0700 (root's, when it runs
// as root, as it does to supervise the service account). Only that owner can create an entry there, so "running"
// is "a connect to <stateDir>/run/up.sock succeeds" once the path is proven to be ours: every directory from / down
// owned by root (or by us) and writable by nobody else (a sticky parent like /tmp is fine: its other users
// cannot move our entry). A process with xo-server's command line, a pid file or a socket planted elsewhere say
// nothing. The socket answers one JSON line: up's pid and, while it runs, xo-server's pid and start time.
import { lstatSync, mkdirSync, realpathSync, statSync, unlinkSync } from 'node:fs'
import { connect, createServer, type Server } from 'node:net'
import { dirname, join, sep } from 'node:path'
import { statePaths } from '../spec/paths.ts'
import type { Spec } from '../spec/schema.ts'
import { XoaError } from '../util/errors.ts'

export interface UpHolder {
  /** The `xoa up` process; undefined when it accepted the connection but did not answer in time (busy). */
  pid?: number
  /** xo-server as `xoa up` started it; absent while it builds, starts Redis, or restarts xo-server. */
  server?: { pid: number; since: string }
}

export interface UpLock {
  path: string
  release(): Promise<void>
}

/** sun_path holds 108 bytes with its NUL. */
const SUN_PATH_MAX = 107

export function upLockPath(spec: Spec): string {
  return join(statePaths(spec).upRun, 'up.sock')
}

const euid = () => process.geteuid?.() ?? 0
const trustedOwner = (uid: number) => uid === 0 || uid === euid()

/**
 * Why `dir` (the lock's own directory) cannot be trusted, or undefined when it can: a real directory, ours, 0700,
 * under parents that only root or we can change. Pure on what lstat says; the caller acts on the answer at once.
 */
export function untrustedLockDir(dir: string): string | undefined {
  let st: ReturnType<typeof lstatSync>
  try {
    st = lstatSync(dir)
  } catch (e) {
    return `${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`
  }
  if (!st.isDirectory()) return `${dir} is not a directory`
  if (!trustedOwner(st.uid)) return `${dir} is owned by uid ${st.uid}`
  if ((st.mode & 0o077) !== 0) return `${dir} has mode ${(st.mode & 0o777).toString(8)}, not 0700`
  let parent: string
  try {
    parent = realpathSync(dirname(dir))
  } catch (e) {
    return `${dirname(dir)}: ${(e as Error).message}`
  }
  const parts = parent.split(sep).filter(Boolean)
  for (let i = 0; i <= parts.length; i++) {
    const p = `${sep}${parts.slice(0, i).join(sep)}`
    const s = statSync(p) // realpath: no symlink left to follow
    if (!trustedOwner(s.uid)) return `${p} is owned by uid ${s.uid}`
    if ((s.mode & 0o022) !== 0 && (s.mode & 0o1000) === 0)
      return `${p} is writable by others (mode ${(s.mode & 0o7777).toString(8)})`
  }
  return undefined
}

/**
 * Undefined when nobody listens on `path`. A connect that succeeds is the proof that the holder lives; its JSON
 * line is the detail, and a holder too busy to answer within `timeoutMs` still counts as running.
 */
function ask(path: string, timeoutMs: number): Promise<UpHolder | undefined> {
  return new Promise((resolve) => {
    let text = ''
    let connected = false
    const sock = connect(path)
    const done = () => {
      clearTimeout(timer)
      sock.destroy()
      if (!connected) return resolve(undefined)
      try {
        const v = JSON.parse(text) as UpHolder
        resolve(Number.isInteger(v.pid) ? v : {})
      } catch {
        resolve({})
      }
    }
    const timer = setTimeout(done, timeoutMs)
    sock.once('connect', () => {
      connected = true
    })
    sock.setEncoding('utf8')
    sock.on('data', (d) => {
      text += d
    })
    sock.on('end', done)
    sock.on('error', done)
  })
}

/** The live `xoa up` of this state dir, as it describes itself; undefined when none holds the lock. */
export async function upHolder(spec: Spec, timeoutMs = 2000): Promise<UpHolder | undefined> {
  const path = upLockPath(spec)
  if (untrustedLockDir(dirname(path)) !== undefined) return undefined
  return ask(path, timeoutMs)
}

export async function isUpRunning(spec: Spec): Promise<boolean> {
  return (await upHolder(spec)) !== undefined
}

/**
 * Take the lock for this state dir until release(); refuses when another `xoa up` holds it. A socket file left by
 * a killed `xoa up` answers nobody and is replaced. `describe` is called on each connection.
 */
export async function holdUpLock(spec: Spec, describe: () => UpHolder['server']): Promise<UpLock> {
  const path = upLockPath(spec)
  const dir = dirname(path)
  if (Buffer.byteLength(path) > SUN_PATH_MAX)
    throw new XoaError(
      `the lock socket path ${path} is longer than a Unix socket allows (${SUN_PATH_MAX} bytes)`,
      {
        hint: 'choose a shorter xo.stateDir',
      },
    )
  mkdirSync(spec.xo.stateDir, { recursive: true, mode: 0o755 })
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const why = untrustedLockDir(dir)
  if (why)
    throw new XoaError(`cannot hold the xoa up lock: ${why}`, {
      hint: `remove ${dir} (xoa up recreates it owned by ${euid() === 0 ? 'root' : 'you'}, mode 0700)`,
    })
  const other = await ask(path, 2000)
  if (other)
    throw new XoaError(`xoa up is already running for ${spec.xo.stateDir} (pid ${other.pid ?? '?'})`, {
      hint: 'stop that one first (Ctrl-C or SIGTERM)',
    })
  try {
    unlinkSync(path)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
  }
  const server: Server = createServer((conn) => {
    conn.on('error', () => {})
    conn.end(`${JSON.stringify({ pid: process.pid, server: describe() } satisfies UpHolder)}\n`)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(path, () => resolve())
  })
  server.unref() // the lock never keeps `xoa up` alive on its own
  return {
    path,
    release: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        try {
          unlinkSync(path)
        } catch {
          // already gone
        }
      }),
  }
}
