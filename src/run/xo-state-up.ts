// `xoa up`'s last step: once xo-server is healthy, make XO's own state match the spec's xoState (the same run
// as `xoa state apply`). A failure is logged with the object and XO's message and XO keeps serving: the state
// is retried by the next `xoa up` or `xoa state apply`, and `xoa status` shows the drift meanwhile.
import type { Spec } from '../spec/schema.ts'
import { XoaError } from '../util/errors.ts'
import { type OpenXoApi, withXo } from '../xo-state/connect.ts'
import { xoApplySummary, xoChangeLine } from '../xo-state/format.ts'
import { applyXoStateRun, xoStateWanted } from '../xo-state/reconcile.ts'

export async function reconcileAfterUp(
  spec: Spec,
  admin: { email: string; password: string },
  log: (line: string) => void,
  open?: OpenXoApi,
): Promise<boolean> {
  try {
    if (!(await xoStateWanted(spec))) return true
    const changes = await withXo(
      spec,
      (api) =>
        applyXoStateRun(spec, api, {
          onChange: (c) => c.action !== 'ok' && log(`xoa | ${xoChangeLine(c)}`),
          onExport: (p) => log(`xoa | XO's configuration before this run saved to ${p}`),
        }),
      { admin, open },
    )
    log(`xoa | ${xoApplySummary(changes)}`)
    return true
  } catch (e) {
    const hint = e instanceof XoaError && e.hint ? ` (next: ${e.hint})` : ''
    log(`xoa | XO state NOT applied: ${(e as Error).message}${hint}`)
    return false
  }
}
