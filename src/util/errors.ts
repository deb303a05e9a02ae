// Errors every layer may throw (the CLI prints them). Exit codes scripts can rely on: 0 ok, 1 operation failed, 2 bad spec or usage, 10 update available.
/**
 * updateAvailable: the channel has a newer version than the pin; channelBehind: it has not (behind the pin, or
 * on another line without a higher version) — `xoa update --check`, docs/updates.md.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, updateAvailable: 10, channelBehind: 11 } as const

/** An expected failure: printed as "xoa: <message>" plus the next thing to try, without a stack trace. */
export class XoaError extends Error {
  readonly exitCode: number
  readonly hint?: string
  constructor(message: string, opts: { exitCode?: number; hint?: string } = {}) {
    super(message)
    this.name = 'XoaError'
    this.exitCode = opts.exitCode ?? EXIT.failed
    this.hint = opts.hint
  }
}

export class UsageError extends XoaError {
  constructor(message: string, hint?: string) {
    super(message, { exitCode: EXIT.usage, hint })
  }
}
