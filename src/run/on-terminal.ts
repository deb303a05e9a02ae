// Upstream's recover-account-cli reads the password with the `pw` package, which puts stdin in raw mode and
// fails without a terminal. The password must not travel in argv (every local user can read /proc/*/cmdline),
// so the CLI gets a pseudo-terminal from util-linux `script` (bsdutils, essential on Debian) and the password
// is typed into it once the prompt shows, i.e. once raw mode (no echo) is on.
import { spawn } from 'node:child_process'
import { hostTool } from '../platform/tool.ts'

export interface TerminalRun {
  code: number | null
  /** What the program printed, with the answer scrubbed out. */
  output: string
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

/** Run `command` on a pseudo-terminal; when `prompt` appears in its output, type `answer` and Enter. */
export function answerOnTerminal(
  command: string[],
  prompt: RegExp,
  answer: string,
  opts: { env: Record<string, string>; timeoutMs: number },
): Promise<TerminalRun> {
  // --echo never: script must not copy what we type to its output. -e: its exit code is the program's.
  const child = spawn(
    hostTool('script', 'answering a password prompt on a terminal'),
    ['--quiet', '--return', '--echo', 'never', '--command', command.map(quote).join(' '), '/dev/null'],
    { env: opts.env, stdio: ['pipe', 'pipe', 'pipe'] },
  )
  let output = ''
  let answered = false
  const onData = (d: Buffer) => {
    output += d.toString()
    if (!answered && prompt.test(output)) {
      answered = true
      child.stdin.write(`${answer}\r`)
    }
  }
  child.stdout.on('data', onData)
  child.stderr.on('data', onData)
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs)
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer)
      child.stdin.destroy()
      resolve({ code, output: answer ? output.split(answer).join('***') : output })
    })
  })
}
