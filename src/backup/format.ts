// What a backup archive is: its name, its manifest, and which archives retention may delete. Pure.
import { createHash } from 'node:crypto'
import { z } from 'zod'
import type { Spec } from '../spec/schema.ts'

export const FORMAT = 'xoa-backup/1'
export const MANIFEST_FILE = 'manifest.json'
export const REDIS_FILE = 'redis.json'
/** Restored sections live under files/<section>/ inside the archive; the pin is kept for information only. */
export const SECTIONS = ['config', 'secrets', 'data', 'pin'] as const
export type Section = (typeof SECTIONS)[number]

const relPath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.split('/').some((s) => s === '..' || s === '.' || s === ''), {
    message: 'must be a plain relative path',
  })

const meta = { mode: z.int().min(0).max(0o7777), uid: z.int().min(0), gid: z.int().min(0) }

export const EntrySchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('file'),
    section: z.enum(SECTIONS),
    path: relPath,
    size: z.int().min(0),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    ...meta,
  }),
  z.strictObject({ type: z.literal('dir'), section: z.enum(SECTIONS), path: relPath, ...meta }),
  z.strictObject({
    type: z.literal('symlink'),
    section: z.enum(SECTIONS),
    path: relPath,
    target: z.string().min(1),
    ...meta,
  }),
])
export type Entry = z.infer<typeof EntrySchema>

/** A section's root directory itself (mode and owner), or absent when it did not exist at backup time. */
const RootSchema = z.strictObject({ dir: z.string(), present: z.boolean(), ...meta })
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

const NAME_RE = /^xoa-backup-(\d{8}T\d{6}Z)(?:-(\d{1,4}))?\.tar\.gz$/

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

/** The xoa-made archives beyond the newest `keep`, oldest first. */
export function archivesToRemove(names: string[], keep: number): string[] {
  const ours = names.filter(isArchiveName).sort((a, b) => {
    const [ta, na] = order(a)
    const [tb, nb] = order(b)
    return ta === tb ? na - nb : ta < tb ? -1 : 1
  })
  return ours.slice(0, Math.max(0, ours.length - keep))
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
