// Parsing of option values shared by several commands.
import { UsageError } from '../util/errors.ts'

/** A `--flag <seconds>` value: a positive number, else a usage error naming the flag. */
export function positiveSeconds(flag: string, value: string): number {
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0)
    throw new UsageError(`${flag}: expected a number of seconds, got "${value}"`)
  return n
}
