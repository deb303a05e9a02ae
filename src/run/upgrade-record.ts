// The last `xoa upgrade` run, kept in <stateDir>/logs/upgrade-last.json so `xoa status` (and a person after a
// scheduled run) can see when it ran, what it did and why; and so a release that failed its health check is
// not retried by every scheduled run.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { self, writeFileAt } from '../fs/at.ts'
import { statePaths } from '../spec/paths.ts'
import type { Spec } from '../spec/schema.ts'
import type { HealthReport } from './health.ts'

export type UpgradeOutcome =
  /** Nothing newer on the channel than what is built and current. */
  | 'nothing-to-do'
  /** Built, switched, healthy; the pin now names the new commit. */
  | 'upgraded'
  /** The new release was not healthy: the previous one was restored. */
  | 'rolled-back'
  /** This target already failed its health check; not tried again without --retry. */
  | 'held-back'
  /** Something failed before the switch (fetch, build, backup): nothing changed. */
  | 'failed'

export interface UpgradeSide {
  version: string
  rev: string
  release?: string
}

/** `when`, `outcome`, `from` and `to` are what `xoa status` shows; the rest is the detail. */
export interface UpgradeRecord {
  /** When the run ended (ISO 8601). */
  when: string
  startedAt: string
  outcome: UpgradeOutcome
  channel: string
  /** "X.Y.Z (rev)" of what was serving, and of the target. */
  from?: string
  to?: string
  fromRelease?: UpgradeSide
  toRelease?: UpgradeSide
  backup?: string
  buildMs?: number
  built?: boolean
  health?: HealthReport
  restored?: HealthReport
  reason?: string
  buildLog?: string
}

export function upgradeRecordFile(spec: Spec): string {
  return join(statePaths(spec).logs, 'upgrade-last.json')
}

/** The last run, or undefined when xoa upgrade never ran (or its record is unreadable). */
export function readLastUpgrade(spec: Spec): UpgradeRecord | undefined {
  try {
    const r = JSON.parse(readFileSync(upgradeRecordFile(spec), 'utf8')) as UpgradeRecord
    return typeof r.outcome === 'string' ? r : undefined
  } catch {
    return undefined
  }
}

export async function writeUpgradeRecord(spec: Spec, record: UpgradeRecord): Promise<void> {
  await writeFileAt(upgradeRecordFile(spec), `${JSON.stringify(record, null, 2)}\n`, self(0o644), {
    create: self(0o755),
  })
}

export const describeSide = (s: UpgradeSide) => `${s.version} (${s.rev.slice(0, 10)})`

/** Pure: did this exact target already fail its health check (and so should a scheduled run skip it)? */
export function heldBack(last: UpgradeRecord | undefined, targetRev: string): boolean {
  return (
    last !== undefined &&
    (last.outcome === 'rolled-back' || last.outcome === 'held-back') &&
    last.toRelease?.rev === targetRev
  )
}
