// Progress of a build for a person (TTY: live elapsed time; otherwise plain lines) or a machine (--json: one
// event per line), and the full log in a file. On failure: the step, the last lines of the log, the next step.
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'

export type ProgressMode = 'tty' | 'plain' | 'json'

export type BuildEvent =
  | { event: 'start'; log: string }
  | { event: 'step'; step: string; status: 'start' | 'done' | 'failed'; elapsedMs?: number; detail?: string }
  | { event: 'up-to-date'; release: string; switched: boolean }
  | { event: 'built'; release: string; switched: boolean; durationMs: number; pruned: string[] }
  | { event: 'failed'; step: string; message: string; log: string; tail: string[]; hint: string }

const TAIL = 40

export class Progress {
  private fd: number | undefined
  private tail: string[] = []
  private ticker: NodeJS.Timeout | undefined

  constructor(
    readonly mode: ProgressMode,
    readonly logFile: string,
    private readonly out: NodeJS.WritableStream = process.stdout,
    private readonly err: NodeJS.WritableStream = process.stderr,
  ) {}

  /** Open the log lazily: a no-op build writes nothing. */
  log(line: string): void {
    if (this.fd === undefined) {
      mkdirSync(dirname(this.logFile), { recursive: true })
      this.fd = openSync(this.logFile, 'a', 0o640)
      this.emit({ event: 'start', log: this.logFile })
    }
    writeSync(this.fd, `${line}\n`)
    this.tail.push(line)
    if (this.tail.length > TAIL) this.tail.shift()
  }

  lastLines(): string[] {
    return [...this.tail]
  }

  /** Run one step: announce it, time it, log the outcome; rethrows after reporting `failed`. */
  async step<T>(name: string, fn: () => Promise<T>, detail?: string): Promise<T> {
    const t0 = Date.now()
    this.log(`==> ${name}${detail ? ` (${detail})` : ''}`)
    this.emit({ event: 'step', step: name, status: 'start', detail })
    if (this.mode === 'tty')
      this.ticker = setInterval(() => this.ttyLine(name, Date.now() - t0, '…'), 1000).unref()
    try {
      const r = await fn()
      this.stopTicker()
      this.log(`<== ${name} done in ${seconds(Date.now() - t0)}`)
      this.emit({ event: 'step', step: name, status: 'done', elapsedMs: Date.now() - t0 })
      return r
    } catch (e) {
      this.stopTicker()
      this.log(`<== ${name} FAILED after ${seconds(Date.now() - t0)}: ${(e as Error).message}`)
      this.emit({ event: 'step', step: name, status: 'failed', elapsedMs: Date.now() - t0 })
      throw new StepFailed(name, e as Error)
    }
  }

  emit(ev: BuildEvent): void {
    if (this.mode === 'json') {
      this.out.write(`${JSON.stringify(ev)}\n`)
      return
    }
    switch (ev.event) {
      case 'start':
        this.out.write(`log: ${ev.log}\n`)
        break
      case 'step':
        if (ev.status === 'start' && this.mode === 'tty') this.ttyLine(ev.step, 0, '…')
        else if (ev.status === 'start') this.out.write(`${ev.step}${ev.detail ? ` (${ev.detail})` : ''}…\n`)
        else {
          const mark = ev.status === 'done' ? 'done' : 'FAILED'
          if (this.mode === 'tty') this.ttyLine(ev.step, ev.elapsedMs ?? 0, mark, true)
          else this.out.write(`${ev.step} ${mark} (${seconds(ev.elapsedMs ?? 0)})\n`)
        }
        break
      case 'up-to-date':
        this.out.write(`up to date: ${ev.release}${ev.switched ? ' (now current)' : ''}\n`)
        break
      case 'built':
        this.out.write(
          `built ${ev.release} in ${seconds(ev.durationMs)}${ev.switched ? ', now current' : ''}` +
            `${ev.pruned.length ? `; removed ${ev.pruned.join(', ')}` : ''}\n`,
        )
        break
      case 'failed':
        this.err.write(
          `\nbuild failed at step "${ev.step}": ${ev.message}\n` +
            `--- last ${ev.tail.length} lines of ${ev.log} ---\n${ev.tail.join('\n')}\n---\n`,
        )
        break
    }
  }

  private ttyLine(step: string, ms: number, mark: string, final = false): void {
    this.out.write(`\r\x1b[2K${step} ${mark} ${seconds(ms)}${final ? '\n' : ''}`)
  }

  private stopTicker(): void {
    if (this.ticker) clearInterval(this.ticker)
    this.ticker = undefined
  }

  close(): void {
    this.stopTicker()
    if (this.fd !== undefined) closeSync(this.fd)
    this.fd = undefined
  }
}

export class StepFailed extends Error {
  constructor(
    readonly step: string,
    readonly error: Error,
  ) {
    super(error.message)
    this.name = 'StepFailed'
  }
}

export function seconds(ms: number): string {
  return ms < 60_000
    ? `${(ms / 1000).toFixed(1)}s`
    : `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`
}
