// The record of every certificate xoa generated, by SHA-256 fingerprint. A certificate whose fingerprint is not
// here is the user's, and xoa never replaces it. Not a secret, but kept with the other state xoa owns.
import { readFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { openLive, self } from '../fs/at.ts'
import { statePaths } from '../spec/paths.ts'
import type { Spec } from '../spec/schema.ts'

export interface LedgerEntry {
  fingerprint: string
  cert: string
  commonName: string
  notAfter: string
  generatedAt: string
}

interface LedgerFile {
  version: 1
  generated: LedgerEntry[]
}

// Old entries matter only while their certificate may still be on disk; a bound keeps the file small.
const KEEP = 50

export function ledgerPath(spec: Spec): string {
  return join(statePaths(spec).secrets, 'tls-generated.json')
}

/** Fingerprints xoa generated; empty when the file does not exist yet. A corrupt file is an error, not "none". */
export function readLedger(file: string): LedgerEntry[] {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw e
  }
  const doc = JSON.parse(text) as Partial<LedgerFile>
  if (doc.version !== 1 || !Array.isArray(doc.generated))
    throw new Error(`${file}: not an xoa certificate ledger (version 1)`)
  return doc.generated
}

export function isGeneratedByXoa(ledger: LedgerEntry[], fingerprint: string): boolean {
  return ledger.some((e) => e.fingerprint === fingerprint)
}

export async function recordGenerated(file: string, entry: LedgerEntry): Promise<void> {
  const generated = [...readLedger(file).filter((e) => e.fingerprint !== entry.fingerprint), entry].slice(
    -KEEP,
  )
  const doc: LedgerFile = { version: 1, generated }
  // Only the secrets directory itself is private; a state dir made here must stay traversable for the service.
  const state = await openLive(dirname(dirname(file)), { create: self(0o755) })
  try {
    const secrets = await state.subdir(basename(dirname(file)), { create: self(0o700) })
    try {
      await secrets.writeFile(basename(file), `${JSON.stringify(doc, null, 2)}\n`, self(0o644))
    } finally {
      await secrets.close()
    }
  } finally {
    await state.close()
  }
}
