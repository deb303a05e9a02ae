// Facts from /proc: who listens on a TCP port (so a port held by something other than xo-server is named, with
// or without systemd), when a process started, and what is mounted. The parsers are pure; the readers are thin.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { isInside } from '../spec/schema.ts'

export interface ProcessInfo {
  pid: number
  /** argv joined with spaces. */
  command: string
}

/** Inodes of TCP sockets listening on `port`, from the text of /proc/net/tcp or tcp6. */
export function listeningInodes(procNetTcp: string, port: number): string[] {
  return procNetTcp
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length > 9 && f[3] === '0A' && Number.parseInt(f[1]!.split(':')[1] ?? '', 16) === port)
    .map((f) => f[9]!)
}

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return ''
  }
}

export function processCommand(pid: number): string {
  return read(`/proc/${pid}/cmdline`).split('\0').filter(Boolean).join(' ')
}

/** The processes holding a listening TCP socket on `port` (needs root to see other users' processes). */
export function portHolders(port: number): ProcessInfo[] {
  const inodes = new Set(
    [read('/proc/net/tcp'), read('/proc/net/tcp6')].flatMap((t) => listeningInodes(t, port)),
  )
  if (inodes.size === 0) return []
  const found: ProcessInfo[] = []
  for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    let fds: string[]
    try {
      fds = readdirSync(`/proc/${name}/fd`)
    } catch {
      continue // gone, or not ours to read
    }
    const holds = fds.some((fd) => {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${name}/fd/${fd}`))
        return m !== null && inodes.has(m[1]!)
      } catch {
        return false
      }
    })
    if (holds) found.push({ pid: Number(name), command: processCommand(Number(name)) })
  }
  return found
}

/** Start time of a process from /proc/<pid>/stat and the boot time; undefined when it is gone. */
export function processStartedAt(pid: number): Date | undefined {
  const stat = read(`/proc/${pid}/stat`)
  const btime = /^btime (\d+)$/m.exec(read('/proc/stat'))?.[1]
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // Field 22 of stat(5) is the start time in clock ticks after boot; the fields after ")" begin at field 3.
  const ticks = Number(rest[19])
  if (!btime || !Number.isFinite(ticks)) return undefined
  const CLK_TCK = 100 // USER_HZ: 100 on every Linux architecture Node runs on
  return new Date((Number(btime) + ticks / CLK_TCK) * 1000)
}

export interface MountEntry {
  type: string
  source: string
  target: string
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
const unoctal = (s: string) =>
  s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)))

/** Mounts at or below `dir` from the text of /proc/self/mountinfo. */
export function mountsUnder(mountinfo: string, dir: string): MountEntry[] {
  return mountinfo
    .split('\n')
    .filter(Boolean)
    .flatMap((line) => {
      const [left, right] = line.split(' - ')
      const target = unoctal(left?.split(' ')[4] ?? '')
      const [type = '', source = ''] = (right ?? '').split(' ')
      return target && isInside(target, dir) ? [{ type, source: unoctal(source), target }] : []
    })
}

export function readMountinfo(): string {
  return read('/proc/self/mountinfo')
}
