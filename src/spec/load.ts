// Reading a spec (TOML or JSON) and turning every problem into "field: reason" lines.
import { readFileSync } from 'node:fs'
import { closest, distance } from 'fastest-levenshtein'
import { parse as parseToml, TomlError } from 'smol-toml'
import type { z } from 'zod'
import { containerSpecDoc, inContainer } from './container.ts'
import { type Spec, SpecSchema } from './schema.ts'
import { SECRET_KEY } from './xo-state.ts'

export const DEFAULT_SPEC_PATH = '/etc/xoa/xoa.toml'

export interface SpecProblem {
  field: string
  message: string
}

/** A spec that cannot be used; the CLI prints `problems` and exits 2. */
export class SpecError extends Error {
  readonly problems: SpecProblem[]
  readonly file: string
  constructor(file: string, problems: SpecProblem[]) {
    super(problems.map((p) => `${file}: ${p.field ? `${p.field}: ` : ''}${p.message}`).join('\n'))
    this.name = 'SpecError'
    this.file = file
    this.problems = problems
  }
}

/** Parse text as TOML, or JSON when the name ends in .json (what the NixOS module writes). */
export function parseSpecText(text: string, file: string): unknown {
  if (file.endsWith('.json')) {
    try {
      return JSON.parse(text)
    } catch (e) {
      throw new SpecError(file, [{ field: '', message: `malformed JSON: ${(e as Error).message}` }])
    }
  }
  try {
    return parseToml(text)
  } catch (e) {
    const where = e instanceof TomlError ? ` at line ${e.line}, column ${e.column}` : ''
    const first = (e as Error).message.split('\n')[0]
    throw new SpecError(file, [{ field: '', message: `malformed TOML${where}: ${first}` }])
  }
}

/** Validate a parsed document; fills defaults. Throws SpecError naming each bad field. */
export function validateSpec(doc: unknown, file = '<spec>'): Spec {
  const r = SpecSchema.safeParse(doc)
  if (r.success) return r.data
  throw new SpecError(
    file,
    r.error.issues.flatMap((i) => describeIssue(i, doc)),
  )
}

/**
 * The spec the CLI runs with: the file; in the container image (XOA_CONTAINER=1) the image's defaults, the
 * file when there is one, then the XOA_* variables for the common fields (src/spec/container.ts).
 */
export function loadSpec(file: string, env: NodeJS.ProcessEnv = process.env): Spec {
  if (!inContainer(env)) return loadSpecFile(file)
  let doc: unknown
  try {
    doc = parseSpecText(readFileSync(file, 'utf8'), file)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      if (e instanceof SpecError) throw e
      return loadSpecFile(file) // the same message as outside a container
    }
  }
  const { doc: merged, fromEnv } = containerSpecDoc(doc, env)
  try {
    return validateSpec(merged, file)
  } catch (e) {
    if (!(e instanceof SpecError)) throw e
    // A bad value from the environment is named by its variable, not only by a field of a file.
    const problems = e.problems.map((p) =>
      fromEnv.has(p.field) ? { ...p, message: `${p.message} (from $${fromEnv.get(p.field)})` } : p,
    )
    throw new SpecError(file, problems)
  }
}

export function loadSpecFile(file: string): Spec {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    const hint =
      code === 'ENOENT'
        ? ' (write one from examples/xoa.toml, or pass --spec FILE)'
        : code === 'EACCES'
          ? ' (the installed spec is readable by root only: run xoa as root, e.g. with sudo)'
          : ''
    throw new SpecError(file, [
      { field: '', message: `cannot read the spec: ${code ?? (e as Error).message}${hint}` },
    ])
  }
  return validateSpec(parseSpecText(text, file), file)
}

function fieldName(path: PropertyKey[]): string {
  return path
    .map((k) => (typeof k === 'number' ? `[${k}]` : String(k)))
    .join('.')
    .replace(/\.\[/g, '[')
}

function valueAt(doc: unknown, path: PropertyKey[]): unknown {
  let v: unknown = doc
  for (const k of path) v = v && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined
  return v
}

function describeIssue(issue: z.core.$ZodIssue, doc: unknown): SpecProblem[] {
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeys(issue.path)
    return issue.keys.map((k) => {
      const guess = known.length > 0 ? closest(k, known) : undefined
      const hint =
        guess && distance(k, guess) <= Math.max(2, Math.floor(k.length / 3))
          ? ` (did you mean "${guess}"?)`
          : ''
      const where = issue.path.length > 0 ? `${fieldName(issue.path)}.${k}` : k
      return { field: where, message: `unknown key${hint}; known keys: ${known.join(', ')}` }
    })
  }
  const field = fieldName(issue.path)
  const got = valueAt(doc, issue.path)
  // A value under a secret-looking key is never echoed: it may be the secret itself, typed inline by mistake.
  const secret = issue.path.some((k) => typeof k === 'string' && SECRET_KEY.test(k))
  const shown = got === undefined || typeof got === 'object' || secret ? '' : ` (got ${JSON.stringify(got)})`
  return [{ field, message: `${issue.message}${shown}` }]
}

type AnyDef = {
  type: string
  shape?: Record<string, { _zod: { def: AnyDef } }>
  innerType?: { _zod: { def: AnyDef } }
  in?: { _zod: { def: AnyDef } }
}

/** The keys the schema allows for the object at `path`. */
export function knownKeys(path: PropertyKey[]): string[] {
  let def: AnyDef | undefined = (SpecSchema as unknown as { _zod: { def: AnyDef } })._zod.def
  const unwrap = () => {
    while (def && (def.innerType || def.in)) def = (def.innerType ?? def.in)!._zod.def
  }
  unwrap()
  for (const k of path) {
    if (!def?.shape) return []
    def = def.shape[String(k)]?._zod.def
    unwrap()
  }
  return def?.shape ? Object.keys(def.shape) : []
}
