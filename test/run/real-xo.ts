// Helpers for the opt-in suites on real upstream XO: its JSON-RPC API through xo-lib, an strace on a running
// process, and a sampler of every process's argv.
import { type ChildProcess, spawn } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { setTimeout as sleep } from 'node:timers/promises'
import type { PeerCertificate } from 'node:tls'

interface XoClient {
  open(): Promise<void>
  close(): Promise<void>
  signIn(credentials: { email: string; password: string }): Promise<void>
  call(method: string, args?: object): Promise<unknown>
  /** jsonrpc-websocket-client hands this object to `new WebSocket(url, protocols, opts)`. */
  _opts: object
}

const require = createRequire(import.meta.url)
const { default: Xo } = require('xo-lib') as { default: new (opts: { url: string }) => XoClient }

/**
 * Signed in to XO's JSON-RPC API over wss://, trusting exactly the configured certificate (xo-lib's constructor
 * takes no TLS options, so they go where its WebSocket client reads them).
 */
export async function xoApi(
  url: string,
  pinnedCert: string,
  admin: { email: string; password: string },
): Promise<XoClient> {
  const xo = new Xo({ url })
  const want = new X509Certificate(pinnedCert).fingerprint256
  xo._opts = {
    rejectUnauthorized: true,
    ca: pinnedCert,
    checkServerIdentity: (_host: string, cert: PeerCertificate) =>
      cert.fingerprint256 === want ? undefined : new Error(`unexpected certificate ${cert.fingerprint256}`),
  }
  await xo.open()
  await xo.signIn(admin)
  return xo
}

/** Pids whose argv contains every one of `words`. */
export function pidsWith(...words: string[]): number[] {
  const out: number[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0')
      if (words.every((w) => argv.includes(w))) out.push(Number(name))
    } catch {
      // gone
    }
  }
  return out
}

export interface Trace {
  /** Stop tracing; resolves with strace's output. */
  stop(): Promise<string>
}

/** `strace -f` attached to a running process (and every child it starts from now on), into `file`. */
export async function straceAttach(pid: number, file: string, syscalls = 'execve,mount'): Promise<Trace> {
  const child: ChildProcess = spawn(
    'strace',
    [
      '-f',
      '-qq',
      '-s',
      '4096',
      '-e',
      `trace=${syscalls}`,
      '-e',
      'signal=none',
      '-o',
      file,
      '-p',
      String(pid),
    ],
    { stdio: 'ignore' },
  )
  const exited = new Promise<void>((r) => child.once('exit', () => r()))
  for (let i = 0; i < 100; i++) {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    if (!/^TracerPid:\s+0$/m.test(status)) break
    await sleep(100)
  }
  return {
    async stop() {
      child.kill('SIGINT')
      await exited
      return readFileSync(file, 'utf8')
    },
  }
}

export interface Sampler {
  /** Stop; the argv lines (NUL → space) that contained the secret, and how many process reads were made. */
  stop(): Promise<{ hits: string[]; reads: number; commands: Set<string> }>
}

/** Read every process's /proc/PID/cmdline in a tight loop, looking for `secret` (what any local user can see). */
export function sampleArgv(secret: string): Sampler {
  const hits: string[] = []
  const commands = new Set<string>()
  let reads = 0
  let running = true
  const loop = async () => {
    while (running) {
      for (const name of readdirSync('/proc')) {
        if (!/^\d+$/.test(name)) continue
        try {
          const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8')
          reads++
          commands.add(argv.split('\0')[0] ?? '')
          if (argv.includes(secret)) hits.push(argv.replaceAll('\0', ' '))
        } catch {
          // gone
        }
      }
      await sleep(0)
    }
  }
  const done = loop()
  return {
    async stop() {
      running = false
      await done
      return { hits, reads, commands }
    },
  }
}

/** The execve lines of an strace log whose program path ends with `/name`. */
export function execs(log: string, name: string): string[] {
  return log.split('\n').filter((l) => new RegExp(`execve\\("[^"]*/${name}"`).test(l))
}
