// Small process helpers for the nspawn harness: run a command to completion, find a container's init.
import { spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'

export interface ExecResult {
  status: number
  stdout: string
  stderr: string
}

export interface RunOptions {
  input?: string
  env?: NodeJS.ProcessEnv
  timeoutMs?: number
}

/** Run argv to completion; never rejects on a non-zero exit (the caller asserts on status). */
export function run(argv: string[], opts: RunOptions = {}): Promise<ExecResult> {
  const [cmd, ...args] = argv
  if (!cmd) throw new Error('run: empty argv')
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d
    })
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
    })
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          stderr += `\n[harness] timed out after ${opts.timeoutMs} ms: ${argv.join(' ')}`
          child.kill('SIGKILL')
        }, opts.timeoutMs)
      : undefined
    child.on('error', reject)
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer)
      resolve({ status: code ?? (signal ? 128 : -1), stdout, stderr })
    })
    child.stdin.on('error', () => {}) // a command that exits without reading its input is not our failure
    child.stdin.end(opts.input ?? '')
  })
}

interface ProcStatus {
  pid: number
  ppid: number
  nspid: number[]
}

function readStatus(pid: number): ProcStatus | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8')
    const ppid = Number(/^PPid:\s*(\d+)/m.exec(text)?.[1])
    const nspid = (/^NSpid:\s*(.+)$/m.exec(text)?.[1] ?? '').trim().split(/\s+/).map(Number)
    return { pid, ppid, nspid }
  } catch {
    return undefined // the process exited while we looked
  }
}

/**
 * The host PID of the init (PID 1 in a nested PID namespace) that descends from `ancestor` — the container's
 * systemd under a systemd-nspawn process.
 */
export function findContainerInit(ancestor: number): number | undefined {
  const all = new Map<number, ProcStatus>()
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const s = readStatus(Number(name))
    if (s) all.set(s.pid, s)
  }
  for (const s of all.values()) {
    if (s.nspid.length < 2 || s.nspid[s.nspid.length - 1] !== 1) continue
    for (let p = all.get(s.ppid); p; p = all.get(p.ppid)) {
      if (p.pid === ancestor) return s.pid
      if (p.pid <= 1) break
    }
  }
  return undefined
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export interface ProcFacts {
  pid: number
  cmdline: string
  status: Record<string, string>
}

/** The processes below PID `root` (a container's init, or xoa up) as the host's /proc shows them, root included. */
export function processTree(root: number): ProcFacts[] {
  const byParent = new Map<number, number[]>()
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const ppid = Number(/^PPid:\s*(\d+)/m.exec(readFileSync(`/proc/${name}/status`, 'utf8'))?.[1])
      byParent.set(ppid, [...(byParent.get(ppid) ?? []), Number(name)])
    } catch {
      // exited while we looked
    }
  }
  const out: ProcFacts[] = []
  const walk = (pid: number) => {
    try {
      const status = Object.fromEntries(
        readFileSync(`/proc/${pid}/status`, 'utf8')
          .split('\n')
          .filter((l) => l.includes(':'))
          .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]),
      )
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim()
      out.push({ pid, cmdline, status })
    } catch {
      return
    }
    for (const c of byParent.get(pid) ?? []) walk(c)
  }
  walk(root)
  return out
}
