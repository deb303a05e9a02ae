// A plugin configuration from the spec: its `{ file = … }` secrets resolved, then checked against the JSON
// schema the running XO reports for the plugin, before anything is sent. Every problem names the spec field.
import { z } from 'zod'
import { isSecretFileRef } from '../spec/secret-file.ts'
import { UsageError } from '../util/errors.ts'

export type ReadSecret = (path: string, field: string) => string

/** A copy of `v` with every `{ file = … }` replaced by the file's content. */
export function resolveSecretRefs(v: unknown, read: ReadSecret, field: string): unknown {
  if (isSecretFileRef(v)) return read(v.file, field)
  if (Array.isArray(v)) return v.map((x, i) => resolveSecretRefs(x, read, `${field}[${i}]`))
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => [k, resolveSecretRefs(x, read, `${field}.${k}`)]),
    )
  return v
}

export function hasSecretRefs(v: unknown): boolean {
  if (isSecretFileRef(v)) return true
  if (Array.isArray(v)) return v.some(hasSecretRefs)
  if (v && typeof v === 'object') return Object.values(v).some(hasSecretRefs)
  return false
}

/** Problems of `config` against the plugin's JSON schema, as "field: reason" (no value is ever quoted). */
export function configurationProblems(
  schema: Record<string, unknown> | undefined,
  config: unknown,
  field: string,
): string[] {
  if (!schema) return []
  let validator: z.ZodType
  try {
    validator = z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0])
  } catch {
    // A schema this validator cannot read is XO's to check: it validates again when it stores it.
    return []
  }
  const r = validator.safeParse(config)
  if (r.success) return []
  return r.error.issues.map((i) => {
    const at = i.path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`)).join('')
    return `${field}${at}: ${i.code === 'invalid_type' ? i.message.replace(/, received .*$/, '') : i.message}`
  })
}

export function assertConfiguration(
  schema: Record<string, unknown> | undefined,
  config: unknown,
  field: string,
): void {
  const problems = configurationProblems(schema, config, field)
  if (problems.length)
    throw new UsageError(
      `the configuration does not match the plugin's schema (as XO reports it):\n  ${problems.join('\n  ')}`,
      'fix the spec; nothing was sent to XO',
    )
}

/** Is every value in `want` also in `have` (objects compared key by key, the rest exactly)? */
export function containedIn(want: unknown, have: unknown): boolean {
  if (Array.isArray(want))
    return Array.isArray(have) && want.length === have.length && want.every((w, i) => containedIn(w, have[i]))
  if (want && typeof want === 'object')
    return (
      !!have &&
      typeof have === 'object' &&
      !Array.isArray(have) &&
      Object.entries(want).every(([k, w]) => containedIn(w, (have as Record<string, unknown>)[k]))
    )
  return want === have
}
