// Blocking file system calls for the pins, run where a hung file system cannot stall the daemon.
// An open(2) or fstat(2) below a dead NFS server or a frozen FUSE server blocks until that server answers;
// on libuv's shared pool four of them stop every other request, the umount that would recover included.
// So each pin job gets its own worker thread running plain synchronous calls, under a deadline; a worker
// that misses it is abandoned (its thread stays blocked in the kernel, nothing else waits on it).
import {
  closeSync,
  fchmodSync,
  fstatSync,
  mkdirSync,
  openSync,
  readlinkSync,
  renameSync,
  rmdirSync,
} from 'node:fs'
import { Worker } from 'node:worker_threads'

/** What the pins need to know of an open descriptor. */
export interface FdStat {
  dev: number
  ino: number
  mode: number
  uid: number
  gid: number
  nlink: number
}

/** A failed call: `code` is the errno name (ENOENT…), or ETIMEDOUT when the deadline passed. */
export class CallFailed extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message)
  }
}

export interface Syscalls {
  open(path: string, flags: number): Promise<number>
  fstat(fd: number): Promise<FdStat>
  readlink(path: string): Promise<string>
  mkdir(path: string, mode: number): Promise<void>
  rename(from: string, to: string): Promise<void>
  rmdir(path: string): Promise<void>
  fchmod(fd: number, mode: number): Promise<void>
  close(fd: number): Promise<void>
  /** Ends the worker (if any); descriptors it opened stay open in the process. */
  end(): void
}

type Op = 'open' | 'fstat' | 'readlink' | 'mkdir' | 'rename' | 'rmdir' | 'fchmod' | 'close'

const fstatOf = (fd: number): FdStat => {
  const s = fstatSync(fd)
  return { dev: s.dev, ino: s.ino, mode: s.mode, uid: s.uid, gid: s.gid, nlink: s.nlink }
}

function run(op: Op, args: (string | number)[]): unknown {
  const [a, b] = args as [never, never]
  switch (op) {
    case 'open':
      return openSync(a, b)
    case 'fstat':
      return fstatOf(a)
    case 'readlink':
      return readlinkSync(a)
    case 'mkdir':
      return mkdirSync(a, { mode: b })
    case 'rename':
      return renameSync(a, b)
    case 'rmdir':
      return rmdirSync(a)
    case 'fchmod':
      return fchmodSync(a, b)
    case 'close':
      return closeSync(a)
  }
}

// The worker's whole program: self-contained (it is evaluated, not imported, so it works from the bundle).
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads')
const fs = require('node:fs')
const ops = {
  open: (p, f) => fs.openSync(p, f),
  fstat: (fd) => { const s = fs.fstatSync(fd); return { dev: s.dev, ino: s.ino, mode: s.mode, uid: s.uid, gid: s.gid, nlink: s.nlink } },
  readlink: (p) => fs.readlinkSync(p),
  mkdir: (p, m) => { fs.mkdirSync(p, { mode: m }) },
  rename: (a, b) => { fs.renameSync(a, b) },
  rmdir: (p) => { fs.rmdirSync(p) },
  fchmod: (fd, m) => { fs.fchmodSync(fd, m) },
  close: (fd) => { fs.closeSync(fd) },
}
parentPort.on('message', ({ id, op, args }) => {
  try {
    parentPort.postMessage({ id, value: ops[op](...args) })
  } catch (e) {
    parentPort.postMessage({ id, error: { code: e.code || 'EIO', message: e.message } })
  }
})
`

function errorOf(e: unknown): CallFailed {
  const err = e as NodeJS.ErrnoException
  return new CallFailed(err.message, err.code ?? 'EIO')
}

/** Calls made right here, synchronously: only for paths root alone controls (mountsDir and its parents). */
export function directCalls(): Syscalls {
  const call = async <T>(op: Op, ...args: (string | number)[]): Promise<T> => {
    try {
      return run(op, args) as T
    } catch (e) {
      throw errorOf(e)
    }
  }
  return wrap(call, () => {})
}

/** Workers abandoned on a deadline whose thread has not come back from the kernel yet. */
let stuck = 0
export const stuckWorkers = (): number => stuck

/** Calls made in a fresh worker thread, each within `timeoutMs`; past it the worker is abandoned. */
export function workerCalls(timeoutMs: number): Syscalls {
  const worker = new Worker(WORKER_SOURCE, { eval: true })
  worker.unref()
  let next = 0
  let dead: CallFailed | undefined
  const waiting = new Map<
    number,
    { resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout }
  >()
  const abandon = (why: CallFailed) => {
    if (dead) return
    dead = why
    for (const w of waiting.values()) {
      clearTimeout(w.timer)
      w.reject(why)
    }
    waiting.clear()
  }
  worker.on('message', (m: { id: number; value?: unknown; error?: { code: string; message: string } }) => {
    const w = waiting.get(m.id)
    if (!w) return
    waiting.delete(m.id)
    clearTimeout(w.timer)
    if (m.error) w.reject(new CallFailed(m.error.message, m.error.code))
    else w.resolve(m.value)
  })
  worker.on('error', (e) => abandon(new CallFailed(`pin worker failed: ${e.message}`, 'EIO')))
  const call = <T>(op: Op, ...args: (string | number)[]): Promise<T> => {
    if (dead) return Promise.reject(dead)
    const id = next++
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        stuck++
        worker.once('exit', () => stuck--)
        abandon(
          new CallFailed(
            `${op} ${String(args[0])} did not return within ${timeoutMs} ms (hung file system?)`,
            'ETIMEDOUT',
          ),
        )
        // Ends the thread as soon as its call returns; it cannot interrupt the call itself.
        void worker.terminate()
      }, timeoutMs)
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject, timer })
      worker.postMessage({ id, op, args })
    })
  }
  return wrap(call, () => {
    if (!dead) {
      dead = new CallFailed('pin worker ended', 'EIO')
      void worker.terminate()
    }
  })
}

function wrap(call: <T>(op: Op, ...args: (string | number)[]) => Promise<T>, end: () => void): Syscalls {
  return {
    open: (p, f) => call('open', p, f),
    fstat: (fd) => call('fstat', fd),
    readlink: (p) => call('readlink', p),
    mkdir: (p, m) => call('mkdir', p, m),
    rename: (a, b) => call('rename', a, b),
    rmdir: (p) => call('rmdir', p),
    fchmod: (fd, m) => call('fchmod', fd, m),
    close: (fd) => call('close', fd),
    end,
  }
}
