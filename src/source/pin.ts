// The pin: which upstream commit xoa builds (xo-source.json), and the spec's overrides of it.
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { z } from 'zod'
import type { Spec } from '../spec/schema.ts'
import { XoaError } from '../util/errors.ts'

export const PinSchema = z.object({
  url: z.string().min(1),
  rev: z.string().regex(/^[0-9a-f]{40}$/, 'must be a full 40-digit commit id'),
  version: z.string().min(1).optional(),
  date: z.string().optional(),
  channel: z.string().optional(),
})
export type Pin = z.infer<typeof PinSchema>

/** Where xoa looks for the pin it ships with: next to the bundle (dist/ → repo root, or the install dir). */
export function defaultPinCandidates(moduleUrl = import.meta.url): string[] {
  const here = dirname(fileURLToPath(moduleUrl))
  return [
    join(here, 'xo-source.json'),
    join(here, '..', 'xo-source.json'),
    join(here, '..', '..', 'xo-source.json'),
    '/usr/local/lib/xoa/xo-source.json',
  ]
}

/**
 * The pin a host builds from: `xoa apply` seeds it once from the shipped pin, then `xoa update` (and the
 * scheduled `xoa upgrade`) rewrite it. Installing a newer xoa therefore never moves a host's XO by itself.
 */
export const HOST_PIN_FILE = '/etc/xoa/xo-source.json'

/** The pin shipped with this xoa, if any. */
export function shippedPinFile(): string | undefined {
  return defaultPinCandidates().find((f) => existsSync(f))
}

export function findPinFile(spec: Spec): string {
  if (spec.source.pinFile) return spec.source.pinFile
  const found = existsSync(HOST_PIN_FILE) ? HOST_PIN_FILE : shippedPinFile()
  if (!found)
    throw new XoaError('no xo-source.json found next to xoa', {
      hint: 'set source.pinFile (or source.url and source.rev) in the spec, or reinstall with scripts/setup.sh',
    })
  return found
}

export function readPin(file: string): Pin {
  let doc: unknown
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'))
  } catch (e) {
    throw new XoaError(`cannot read the pin file ${file}: ${(e as Error).message}`, {
      hint: 'check source.pinFile in the spec',
    })
  }
  const r = PinSchema.safeParse(doc)
  if (!r.success) {
    const why = r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')
    throw new XoaError(`invalid pin file ${file}: ${why}`, {
      hint: 'fix it, or set source.url/rev in the spec',
    })
  }
  return r.data
}

/** What to build: the spec's url/rev win over the pin; a --rev on the command line wins over both. */
export interface SourceRef {
  url: string
  /** A commit id (7–40 hex) or, from --rev only, any ref name the mirror can resolve. */
  rev: string
  /** The pin's version, valid only when rev is the pinned commit. */
  pin: Pin
}

export function sourceRef(spec: Spec, pin: Pin, revOverride?: string): SourceRef {
  return { url: spec.source.url ?? pin.url, rev: revOverride ?? spec.source.rev ?? pin.rev, pin }
}
