// Where the spec's free-form maps take a secret from a file (`{ file = "/abs/path" }`, src/spec/secret-file.ts):
// xo.extraServerEnv values and xo.settings leaves. Pure: it finds the references and splits each map into what
// is rendered (plain values) and what root resolves at run time (src/run/secrets.ts); it never reads a file.
import { secretFileRef } from './secret-file.ts'

type Plain = Record<string, unknown>

const isPlainObject = (v: unknown): v is Plain =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype

/** A table whose only key is `file` is a secret reference, wherever it is in xo.settings. */
function refShaped(v: unknown): v is { file: unknown } {
  return isPlainObject(v) && Object.keys(v).length === 1 && 'file' in v
}

export interface SecretRef {
  /** The spec field, e.g. "xo.settings.authentication.ldap.bind.password". */
  field: string
  file: string
}

export interface SettingsSecretRef extends SecretRef {
  /** Keys from the top of xo.settings down to the leaf. */
  keys: string[]
}

export interface EnvSecretRef extends SecretRef {
  name: string
}

/** Bad references in xo.settings, as zod issues (path below xo.settings, message). */
export function settingsSecretProblems(settings: Plain): { path: (string | number)[]; message: string }[] {
  const out: { path: (string | number)[]; message: string }[] = []
  const walk = (v: unknown, path: (string | number)[], inArray: boolean): void => {
    if (refShaped(v)) {
      const r = secretFileRef.safeParse(v)
      if (!r.success)
        out.push({ path: [...path, 'file'], message: r.error.issues[0]?.message ?? 'invalid secret file' })
      // app-conf merges arrays index by index and TOML has no holes: the secret could not go in its own file.
      else if (inArray)
        out.push({ path, message: 'a { file = … } secret cannot be inside an array; use a table' })
      return
    }
    if (Array.isArray(v)) for (const [i, x] of v.entries()) walk(x, [...path, i], true)
    else if (isPlainObject(v)) for (const [k, x] of Object.entries(v)) walk(x, [...path, k], inArray)
  }
  walk(settings, [], false)
  return out
}

/** Every `{ file }` leaf of xo.settings (arrays never hold one: the schema refuses it). */
export function settingsSecretRefs(settings: Plain): SettingsSecretRef[] {
  const out: SettingsSecretRef[] = []
  const walk = (v: unknown, keys: string[]): void => {
    if (refShaped(v) && typeof v.file === 'string')
      out.push({ keys, field: ['xo.settings', ...keys].join('.'), file: v.file })
    else if (isPlainObject(v)) for (const [k, x] of Object.entries(v)) walk(x, [...keys, k])
  }
  walk(settings, [])
  return out
}

/** xo.settings without its secret leaves: what config.toml gets. A table left empty by it goes too. */
export function settingsWithoutSecrets(settings: Plain): Plain {
  const strip = (v: unknown): unknown => {
    if (!isPlainObject(v)) return v
    const out: Plain = {}
    for (const [k, x] of Object.entries(v)) {
      if (refShaped(x)) continue
      const s = strip(x)
      if (isPlainObject(x) && isPlainObject(s) && Object.keys(s).length === 0 && Object.keys(x).length > 0)
        continue
      Object.defineProperty(out, k, { value: s, enumerable: true, writable: true, configurable: true })
    }
    return out
  }
  return strip(settings) as Plain
}

/** The tree of resolved settings leaves, shaped like xo.settings, for config.z-secrets.toml. */
export function settingsTree(values: { keys: string[]; value: string }[]): Plain {
  const root: Plain = {}
  for (const { keys, value } of values) {
    let at = root
    for (const k of keys.slice(0, -1)) {
      if (!isPlainObject(at[k]))
        Object.defineProperty(at, k, { value: {}, enumerable: true, writable: true, configurable: true })
      at = at[k] as Plain
    }
    const last = keys[keys.length - 1]!
    Object.defineProperty(at, last, { value, enumerable: true, writable: true, configurable: true })
  }
  return root
}

export type ServerEnvValue = string | { file: string }

/** xo.extraServerEnv values given as `{ file }`, sorted by name. */
export function envSecretRefs(env: Record<string, ServerEnvValue>): EnvSecretRef[] {
  return Object.entries(env)
    .flatMap(([name, v]) =>
      typeof v === 'string' ? [] : [{ name, field: `xo.extraServerEnv.${name}`, file: v.file }],
    )
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

/** xo.extraServerEnv's plain strings: rendered into the unit's environment file as before. */
export function plainEnv(env: Record<string, ServerEnvValue>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string'),
  )
}
