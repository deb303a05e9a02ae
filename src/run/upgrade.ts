// `xoa upgrade`: the safe path from the running release to the newest of a channel. Resolve (a no-op when
// nothing is new: no build, no backup, no restart) → build without switching → backup → health-gated switch →
// on failure the previous release is restored and serving. The pin is rewritten only once the new release is
// healthy, so a reboot (xo-build rebuilds the pin) never brings a release back that failed its check.
import { join } from 'node:path'
import { createBackup } from '../backup/backup.ts'
import type { ServiceControl } from '../backup/services.ts'
import { build } from '../build/builder.ts'
import type { Progress } from '../build/progress.ts'
import { currentId, readManifest } from '../build/store.ts'
import { openLive, self } from '../fs/at.ts'
import { takeLock } from '../fs/lock.ts'
import { UPGRADE_LOCK } from '../host/layout.ts'
import type { Channel } from '../source/channels.ts'
import { assertPinWritable, writePin } from '../source/pin-write.ts'
import { nextPin, planUpdate, type UpdateReport } from '../source/update.ts'
import { offersNewer } from '../source/update-report.ts'
import { statePaths } from '../spec/paths.ts'
import type { Spec } from '../spec/schema.ts'
import { XoaError } from '../util/errors.ts'
import { readAdminPassword } from './admin.ts'
import { type ServerControl, switchWithHealthGate } from './gate.ts'
import { localEndpoint } from './health.ts'
import {
  describeSide,
  heldBack,
  readLastUpgrade,
  type UpgradeRecord,
  type UpgradeSide,
  writeUpgradeRecord,
} from './upgrade-record.ts'

export interface UpgradeOptions {
  channel?: Channel
  pinFile?: string
  /** Restarts xo-server for the health gate (systemd on a host; tests spawn the fixture server). */
  control: ServerControl
  /** Stops xo-server for a consistent backup (see docs/backup.md). */
  services: ServiceControl
  healthTimeoutMs: number
  /** Try again a target whose health check failed before. */
  retry?: boolean
  /** Go to the channel's commit even when it is not newer than the pin (behind it, or a lower version). */
  allowDowngrade?: boolean
  progress: Progress
  log: (line: string) => void
}

/** A failed upgrade, with the record of what happened (the CLI prints its summary). */
export class UpgradeError extends XoaError {
  constructor(
    cause: Error,
    readonly record: UpgradeRecord,
  ) {
    super(cause.message, {
      exitCode: cause instanceof XoaError ? cause.exitCode : undefined,
      hint: cause instanceof XoaError ? cause.hint : undefined,
    })
  }
}

export interface UpgradeResult {
  record: UpgradeRecord
  report?: UpdateReport
}

/** Run an upgrade and record it, whatever the outcome; throws (after recording) when it failed. */
export async function upgrade(spec: Spec, opts: UpgradeOptions): Promise<UpgradeResult> {
  const startedAt = new Date().toISOString()
  const channel = opts.channel ?? spec.updates.channel
  const record: UpgradeRecord = { when: startedAt, startedAt, outcome: 'failed', channel }
  const release = await lockUpgrade(spec)
  try {
    const result = await run(spec, opts, record)
    return result
  } catch (e) {
    record.reason ??= (e as Error).message
    throw new UpgradeError(e as Error, record)
  } finally {
    record.when = new Date().toISOString()
    if (record.fromRelease) record.from = describeSide(record.fromRelease)
    if (record.toRelease) record.to = describeSide(record.toRelease)
    try {
      await writeUpgradeRecord(spec, record)
    } finally {
      await release()
    }
  }
}

async function run(spec: Spec, opts: UpgradeOptions, record: UpgradeRecord): Promise<UpgradeResult> {
  const paths = statePaths(spec)
  const log = opts.log
  log(`checking channel ${record.channel} upstream…`)
  // Not logged to the build log: a scheduled run with nothing new should leave no file behind.
  const report = await planUpdate(spec, { channel: opts.channel, pinFile: opts.pinFile })
  const curId = currentId(paths)
  const cur = curId ? readManifest(join(paths.releases, curId)) : undefined
  record.fromRelease = cur
    ? { version: cur.version, rev: cur.rev, release: curId }
    : { version: report.from.version, rev: report.from.rev }
  record.toRelease = { version: report.to.version, rev: report.to.rev }

  // Nothing new: the channel names what is already built and serving (and pinned). A channel that is not newer
  // than the pin (stable after a move to latest) is no reason to go back, unless asked: --allow-downgrade.
  const serving = cur?.rev === report.to.rev
  const downgrade = report.direction !== 'up-to-date' && !offersNewer(report)
  if ((serving && report.direction === 'up-to-date') || (downgrade && !opts.allowDowngrade)) {
    record.outcome = 'nothing-to-do'
    record.toRelease = record.fromRelease
    record.reason = downgrade
      ? `channel ${report.channel} (${report.to.version}) is not newer than ${report.from.version}; xoa upgrade never goes back without --allow-downgrade`
      : `already at ${report.to.version} (${report.to.rev.slice(0, 10)})`
    return { record, report }
  }
  if (downgrade) log(`going back from ${report.from.version} to ${report.to.version} (--allow-downgrade)`)
  if (!opts.retry && heldBack(readLastUpgrade(spec), report.to.rev)) {
    record.outcome = 'held-back'
    record.reason = `${report.to.version} (${report.to.rev.slice(0, 10)}) failed its health check before; not trying again`
    throw new XoaError(record.reason, {
      hint: 'read the last upgrade log and journalctl -u xo-server; then `xoa upgrade --retry`, or wait for a newer release',
    })
  }
  assertPinWritable(report.pinFile)

  log(`building ${report.to.version} (${report.to.rev.slice(0, 10)}); log: ${opts.progress.logFile}`)
  record.buildLog = opts.progress.logFile
  const built = await build(spec, { switch: false, rev: report.to.rev }, opts.progress)
  record.built = built.status === 'built'
  record.buildMs = built.status === 'built' ? built.manifest.durationMs : 0
  const to: UpgradeSide = { ...record.toRelease!, release: built.release }
  record.toRelease = to

  if (built.release !== curId) {
    log('backing up before the switch…')
    const backup = await createBackup(spec, { services: opts.services })
    record.backup = backup.archive
    log(`switching to ${built.release}, health check within ${Math.round(opts.healthTimeoutMs / 1000)} s…`)
    const admin = { email: spec.webAdmin.email, password: readAdminPassword(spec) }
    const gate = await switchWithHealthGate(paths, built.release, opts.control, {
      endpoint: () => localEndpoint(spec),
      admin,
      timeoutMs: opts.healthTimeoutMs,
    })
    record.health = gate.health
    if (!gate.switched) {
      record.outcome = 'rolled-back'
      record.restored = gate.restored
      const back = gate.from
        ? gate.restored?.healthy
          ? `${gate.from} is current again and healthy`
          : `${gate.from} is current again but NOT healthy: ${gate.restored?.reason ?? 'not checked'}`
        : 'there was no previous release to go back to'
      record.reason = `${to.version} was not healthy (${gate.health.reason}); ${back}`
      throw new XoaError(record.reason, {
        hint: `the pin is unchanged; read journalctl -u xo-server and restore with \`xoa restore ${record.backup}\` if data looks wrong`,
      })
    }
  }
  await writePin(report.pinFile, nextPin(report))
  record.outcome = 'upgraded'
  return { record, report }
}

/** One upgrade (or gated rollback) at a time: an exclusive pid file in the state dir; a dead holder's lock is
 *  taken over. While it is held, xo-build (started by every xo-server restart) switches nothing. */
export async function lockUpgrade(spec: Spec): Promise<() => Promise<void>> {
  const state = await openLive(spec.xo.stateDir, { create: self(0o755) })
  try {
    const lock = await takeLock(state, UPGRADE_LOCK, {
      busy: (pid, file) =>
        new XoaError(`another xoa upgrade or rollback is running (pid ${pid})`, {
          hint: `wait for it (systemctl status xoa-update), or remove ${file} if pid ${pid} is not xoa`,
        }),
    })
    return () => lock.release()
  } finally {
    await state.close()
  }
}
