// Output a person reads: colour only on a TTY and without NO_COLOR; JSON for machines.
const useColour = () => process.stdout.isTTY === true && !process.env.NO_COLOR && process.env.TERM !== 'dumb'

const wrap = (code: number) => (s: string) => (useColour() ? `\x1b[${code}m${s}\x1b[0m` : s)
export const green = wrap(32)
export const yellow = wrap(33)
export const red = wrap(31)
export const dim = wrap(2)
export const bold = wrap(1)

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
}

export function say(line = ''): void {
  process.stdout.write(`${line}\n`)
}

export function warn(line: string): void {
  process.stderr.write(`${line}\n`)
}
