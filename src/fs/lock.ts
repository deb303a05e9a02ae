// One exclusive pid lock (the release store's and the upgrade's): taken with link(2), which fails when the
// name exists, so the lock file is complete the moment it appears. Reached through a SafeDir and read
// without following: a symlink, a directory or another account's file at the lock's name is refused.
import { link } from 'node:fs/promises'
import { XoaError } from '../util/errors.ts'
import { errno, procPath, UnsafePathError } from './names.ts'
import type { SafeDir } from './safe-dir.ts'

export interface Lock {
  /** Idempotent; removes the lock only while it is still this process's. */
  release(): Promise<void>
}

export interface LockOptions {
  /** The error when a live process holds it: e.g. "another build or switch is running (pid 12)". */
  busy: (pid: number, path: string) => XoaError
}

/** Is `pid` a live process? (EPERM: it exists, owned by someone else.) */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return errno(e) === 'EPERM'
  }
}

const me = () => ({ uid: process.geteuid?.() ?? 0, gid: process.getegid?.() ?? 0 })

async function holder(dir: SafeDir, name: string): Promise<number | undefined> {
  const text = await dir.readFile(name, { maxBytes: 64, uid: me().uid })
  if (text === undefined) return undefined
  const pid = Number(text.toString('utf8').trim())
  return Number.isInteger(pid) && pid > 0 ? pid : undefined
}

/** The live process other than this one that holds `name` in `dir`, if any (a dead holder's lock is free). */
export async function lockHolder(dir: SafeDir, name: string): Promise<number | undefined> {
  const pid = await holder(dir, name).catch(() => undefined)
  return pid !== undefined && pid !== process.pid && pidAlive(pid) ? pid : undefined
}

/** Take `name` in `dir`; a lock left by a dead process is taken over. The lock keeps its own dir handle. */
export async function takeLock(dir: SafeDir, name: string, opts: LockOptions): Promise<Lock> {
  const own = await dir.dup()
  const mine = `${name}.${process.pid}`
  const path = own.childPath(name)
  try {
    await own.writeFile(mine, `${process.pid}\n`, { ...me(), mode: 0o644 })
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          await link(procPath(own.fd, mine), procPath(own.fd, name))
          return lockOf(own, name)
        } catch (e) {
          if (errno(e) !== 'EEXIST') throw e
        }
        const pid = await holder(own, name)
        if (pid !== undefined && pid !== process.pid && pidAlive(pid)) throw opts.busy(pid, path)
        await own.remove(name)
      }
      throw new XoaError(`could not take the lock ${path}`, { hint: 'run the command again' })
    } finally {
      await own.remove(mine)
    }
  } catch (e) {
    await own.close()
    if (e instanceof UnsafePathError)
      throw new UnsafePathError(e.path, `${e.message.slice(e.path.length + 2)} (not a lock xoa took)`)
    throw e
  }
}

function lockOf(dir: SafeDir, name: string): Lock {
  let held = true
  return {
    async release() {
      if (!held) return
      held = false
      try {
        if ((await holder(dir, name).catch(() => undefined)) === process.pid) await dir.remove(name)
      } finally {
        await dir.close()
      }
    },
  }
}
