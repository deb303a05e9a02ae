// One XO-state run: read XO through the API, read the ownership record, decide (pure, src/xo-state/diff.ts),
// and for apply carry it out, saving XO's own config export beside the backups before the first change.
import { openLive, writeFileAt } from '../fs/at.ts'
import { statePaths } from '../spec/paths.ts'
import type { Spec } from '../spec/schema.ts'
import { readSecretFile } from '../spec/secret-file.ts'
import type { XoApi } from './api.ts'
import { applyXoState } from './apply.ts'
import type { Observed, XoChange, XoDiff } from './change.ts'
import { diffXoState } from './diff.ts'
import type { ReadSecret } from './plugin-config.ts'
import { readRecord, writeRecord, type XoStateRecord } from './record.ts'

export interface XoStatePlan extends XoDiff {
  observed: Observed
  record: XoStateRecord
}

export async function observeXo(api: XoApi): Promise<Observed> {
  const [plugins, servers, remotes, users, groups, acls] = await Promise.all([
    api.plugins(),
    api.servers(),
    api.remotes(),
    api.users(),
    api.groups(),
    api.acls(),
  ])
  return { plugins, servers, remotes, users, groups, acls }
}

/** Does the spec declare any XO state? */
export function xoStateDeclared(spec: Spec): boolean {
  const s = spec.xoState
  return (
    [s.plugins, s.servers, s.remotes, s.users, s.groups].some((m) => Object.keys(m).length > 0) ||
    s.acls.length > 0
  )
}

/** Does this spec give XO state anything to do? Also when the spec is empty but xoa still owns objects. */
export async function xoStateWanted(spec: Spec): Promise<boolean> {
  if (xoStateDeclared(spec)) return true
  const record = await readRecord(statePaths(spec).xoStateRecord)
  return Object.keys(record.objects).length > 0
}

export async function planXoState(
  spec: Spec,
  api: XoApi,
  readSecret: ReadSecret = readSecretFile,
): Promise<XoStatePlan> {
  const [observed, record] = await Promise.all([observeXo(api), readRecord(statePaths(spec).xoStateRecord)])
  return { ...diffXoState({ state: spec.xoState, observed, record, readSecret }), observed, record }
}

export interface ApplyRunOptions {
  readSecret?: ReadSecret
  onChange?(c: XoChange): void
  now?: Date
  /** Where XO's config export went, when a change was made. */
  onExport?(path: string): void
}

export async function applyXoStateRun(
  spec: Spec,
  api: XoApi,
  opts: ApplyRunOptions = {},
): Promise<XoChange[]> {
  const readSecret = opts.readSecret ?? readSecretFile
  const plan = await planXoState(spec, api, readSecret)
  const paths = statePaths(spec)
  return applyXoState({
    api,
    state: spec.xoState,
    observed: plan.observed,
    record: plan.record,
    readSecret,
    changes: plan.changes,
    forget: plan.forget,
    saveRecord: (r) => writeRecord(paths.xoStateRecord, r),
    beforeFirstChange: async () => {
      const path = `${paths.backups}/${exportName(opts.now ?? new Date())}`
      await saveConfigExport(path, await api.exportConfig())
      await pruneConfigExports(paths.backups, spec.updates.keepBackups)
      opts.onExport?.(path)
    },
    onChange: opts.onChange,
  })
}

export function exportName(now: Date): string {
  return `xo-config-${now.toISOString().replace(/[:.]/g, '-')}.json`
}

/** XO's export holds its secrets (server passwords, remote credentials): root's, 0600, in a 0700 directory. */
export async function saveConfigExport(path: string, data: Buffer): Promise<void> {
  const uid = process.geteuid?.() ?? 0
  const gid = process.getegid?.() ?? 0
  await writeFileAt(path, data, { uid, gid, mode: 0o600 }, { create: { uid, gid, mode: 0o700 } })
}

/** The newest `keep` exports stay (the same count as backup archives); the names sort by time. */
export async function pruneConfigExports(dir: string, keep: number): Promise<void> {
  const d = await openLive(dir)
  try {
    const names = (await d.entries())
      .filter((e) => e.isFile() && /^xo-config-[0-9TZ-]+\.json$/.test(e.name))
      .map((e) => e.name)
      .sort()
    for (const n of names.slice(0, Math.max(0, names.length - keep))) await d.remove(n)
  } finally {
    await d.close()
  }
}
