// What a backup archive is: its name, its manifest, and which archives retention may delete. Pure.
import { createHash } from 'node:crypto'
import { z } from 'zod'
import type { Spec } from '../spec/schema.ts'

/** 2: signed with the host's backup key (auth.ts); no owners, modes or symlinks recorded. */
export const FORMAT = 'xoa-backup/2'
export const MANIFEST_FILE = 'manifest.json'
export const REDIS_FILE = 'redis.json'
/** Restored sections live under files/<section>/ inside the archive; the pin is kept for information only. */
export const SECTIONS = ['config', 'secrets', 'data', 'pin'] as const
export type Section = (typeof SECTIONS)[number]
export type RestoredSection = Exclude<Section, 'pin'>

const relPath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.split('/').some((s) => s === '..' || s === '.' || s === ''), {
    message: 'must be a plain relative path',
  })

// Only what restore may create: plain files and directories. Owners and modes are not recorded: restore
// takes them from its own rules (rules.ts), whatever an archive says.
export const EntrySchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('file'),
    section: z.enum(SECTIONS),
    path: relPath,
    size: z.int().min(0),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
  }),
  z.strictObject({ type: z.literal('dir'), section: z.enum(SECTIONS), path: relPath }),
])
export type Entry = z.infer<typeof EntrySchema>

/** Where a section was read from and whether it existed; restore writes to the spec's directory, not this. */
const RootSchema = z.strictObject({ dir: z.string(), present: z.boolean() })
export type SectionRoot = z.infer<typeof RootSchema>

export const ManifestSchema = z.strictObject({
  format: z.literal(FORMAT),
  xoaVersion: z.string(),
  createdAt: z.string(),
  hostname: z.string(),
  specHash: z.string(),
  /** The release that was current: what the data was last written by. */
  release: z
    .strictObject({ id: z.string(), version: z.string(), rev: z.string(), url: z.string() })
    .nullable(),
  /** How the parts relate in time; see docs/backup.md. */
  consistency: z.strictObject({
    redis: z.literal('atomic'),
    files: z.enum(['service-stopped', 'service-not-running', 'live']),
  }),
  redis: z.strictObject({
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    size: z.int().min(0),
    keys: z.int().min(0),
    databases: z.record(z.string(), z.int().min(0)),
  }),
  roots: z.partialRecord(z.enum(SECTIONS), RootSchema),
  files: z.array(EntrySchema),
  skipped: z.array(z.string()),
})
export type BackupManifest = z.infer<typeof ManifestSchema>

/** Where an entry's content lives inside the archive. */
export function archivePathOf(e: { section: Section; path: string }): string {
  return `files/${e.section}/${e.path}`
}

const NAME_RE = /^xoa-backup-(\d{8}T\d{6}Z)(?:-(\d{1,6}))?\.tar\.gz$/

/** xoa-backup-20260821T101500Z.tar.gz (UTC, sortable); `n` disambiguates two backups in one second. */
export function archiveName(at: Date, n = 0): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z')
  return `xoa-backup-${stamp}${n > 0 ? `-${n}` : ''}.tar.gz`
}

/** Only names xoa itself gives are candidates for deletion; anything else in the directory is left alone. */
export function isArchiveName(name: string): boolean {
  return NAME_RE.test(name)
}

function order(name: string): [string, number] {
  const m = NAME_RE.exec(name)!
  return [m[1]!, Number(m[2] ?? 0)]
}

function byAge(a: string, b: string): number {
  const [ta, na] = order(a)
  const [tb, nb] = order(b)
  return ta === tb ? na - nb : ta < tb ? -1 : 1
}

/**
 * The name for a new archive made at `at`, given what the directory holds: never one that exists or existed
 * (retention removes the oldest of a second first, so the suffix goes on from the highest one left), and
 * always sorting after every xoa archive there (a clock set back would otherwise make the new archive the
 * oldest, for retention to delete at once).
 */
export function nextArchiveName(names: string[], at: Date): string {
  const ours = names.filter(isArchiveName).sort(byAge)
  const newest = ours.at(-1)
  const want = archiveName(at)
  if (!newest || byAge(want, newest) > 0) return want
  const [stamp, n] = order(newest)
  const [wantStamp] = order(want)
  const base = stamp > wantStamp ? new Date(stampToIso(stamp)) : at
  return archiveName(base, n + 1)
}

function stampToIso(s: string): string {
  return `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(9, 11)}:${s.slice(11, 13)}:${s.slice(13, 15)}Z`
}

/** The xoa-made archives beyond the newest `keep`, oldest first; `keepAlso` (the one just written) never. */
export function archivesToRemove(names: string[], keep: number, keepAlso?: string): string[] {
  const ours = names.filter(isArchiveName).sort(byAge)
  return ours.slice(0, Math.max(0, ours.length - keep)).filter((n) => n !== keepAlso)
}

/** Identifies the spec a backup was made with, so restore can say when it differs. */
export function specHash(spec: Spec): string {
  return createHash('sha256').update(canonicalJson(spec)).digest('hex')
}

function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`
  return JSON.stringify(v)
}
