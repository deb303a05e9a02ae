// Shared parts for the attack tests: a layout as `xoa apply` makes it (mountsDir root:<group> 01770), the
// service account played by nobody, the broker's own plan run under strace, and strace's mount(2) lines.
import { spawnSync } from 'node:child_process'
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Executor, runPlan } from '../../src/mount/exec.ts'
import { mountPoints } from '../../src/mount/pin.ts'
import { resolveTools } from '../../src/mount/tools.ts'
import type { PolicyContext } from '../../src/mount/types.ts'

/** The service account in these tests. */
export const SVC = 65534

export function rootLayout(t: { after(fn: () => void): void }, prefix = 'xoa-attack-') {
  const base = mkdtempSync(join(tmpdir(), prefix))
  chmodSync(base, 0o755)
  const mountsDir = join(base, 'mounts')
  const dataDir = join(base, 'data')
  mkdirSync(mountsDir)
  chownSync(mountsDir, 0, SVC)
  chmodSync(mountsDir, 0o1770)
  mkdirSync(dataDir)
  chownSync(dataDir, SVC, SVC)
  t.after(() => {
    for (const mp of mountPoints(readFileSync('/proc/self/mountinfo', 'utf8')).filter((p) =>
      p.startsWith(base),
    ))
      spawnSync('umount', ['-l', mp])
    rmSync(base, { recursive: true, force: true })
  })
  const ctx: PolicyContext = { mountsDir, dataDir, uid: SVC, gid: SVC, tools: resolveTools() }
  return { base, mountsDir, dataDir, ctx }
}

/** Run a command as the service account. */
export function asService(cmd: string, args: string[]) {
  return spawnSync(cmd, args, { uid: SVC, gid: SVC, encoding: 'utf8' })
}

/** The broker's real plan, run under `strace -f -e trace=<calls>` writing to `out`. */
export function straced(out: string, calls = 'mount'): Executor {
  return (plan, fds) =>
    runPlan(
      {
        ...plan,
        file: '/usr/bin/strace',
        argv: ['-f', '-s', '4096', '-e', `trace=${calls}`, '-o', out, plan.file, ...plan.argv],
      },
      fds,
    )
}

export interface MountCall {
  source: string
  target: string
  type: string
  data: string
  result: string
}

const STR = '"((?:[^"\\\\]|\\\\.)*)"'
const MOUNT = new RegExp(`mount\\(${STR}, ${STR}, ${STR}, [^,]+, (?:${STR}|NULL)\\) += (.*)$`)
const unquote = (s: string) => s.replace(/\\(.)/g, '$1')

/** The mount(2) calls strace recorded. */
export function mountCalls(out: string): MountCall[] {
  let text = ''
  try {
    text = readFileSync(out, 'utf8')
  } catch {
    return []
  }
  return text
    .split('\n')
    .map((l) => MOUNT.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({
      source: unquote(m[1]!),
      target: unquote(m[2]!),
      type: m[3]!,
      data: unquote(m[4] ?? ''),
      result: m[5]!.trim(),
    }))
}

/** Split mount data the way the kernel does: on commas, a doubled comma being one literal comma. */
export function kernelOptions(data: string): string[] {
  const out: string[] = []
  let cur = ''
  for (let i = 0; i < data.length; i++) {
    if (data[i] === ',') {
      if (data[i + 1] === ',') {
        cur += ','
        i++
        continue
      }
      out.push(cur)
      cur = ''
    } else cur += data[i]
  }
  out.push(cur)
  return out.filter(Boolean)
}
