// Reaching the running XO for XO-state work: the declared admin's credentials (read only: bootstrap makes them),
// the client (src/xo-state/client.ts) opened and always closed, and the "is XO there?" answer `xoa plan` and
// `xoa status` give when it is not.
import type { Spec } from '../spec/schema.ts'
import { readAdminPassword } from '../status/admin-password.ts'
import { hostView } from '../status/host.ts'
import { UsageError, XoaError } from '../util/errors.ts'
import type { XoApi } from './api.ts'
import type { XoChange } from './change.ts'
import { openXoApi } from './client.ts'
import { xoChangesJson } from './format.ts'
import { planXoState, xoStateDeclared, xoStateWanted } from './reconcile.ts'

export type OpenXoApi = (spec: Spec, admin: { email: string; password: string }) => Promise<XoApi>

export function adminCredentials(spec: Spec): { email: string; password: string } | undefined {
  const password = readAdminPassword(spec, hostView('/'))
  return password ? { email: spec.webAdmin.email, password } : undefined
}

/** Open XO as the declared admin, run `fn`, close. A connection or sign-in failure says so and what to do. */
export async function withXo<T>(
  spec: Spec,
  fn: (api: XoApi) => Promise<T>,
  opts: { open?: OpenXoApi; admin?: { email: string; password: string } } = {},
): Promise<T> {
  const admin = opts.admin ?? adminCredentials(spec)
  if (!admin)
    throw new XoaError(
      `no web admin password to sign in to XO with (webAdmin.passwordFile or the generated one)`,
      {
        hint: 'run as root; `xoa bootstrap` (or `xoa up`) creates the admin',
      },
    )
  let api: XoApi
  try {
    api = await (opts.open ?? openXoApi)(spec, admin)
  } catch (e) {
    throw new XoaError(`XO is not reachable: ${(e as Error).message}`, {
      hint: 'xoa status (is xo-server running and healthy?)',
    })
  }
  try {
    return await fn(api)
  } finally {
    await api.close().catch(() => {})
  }
}

export type XoStateProbe =
  | { status: 'none' }
  | { status: 'unreachable'; reason: string }
  | { status: 'checked'; changes: XoChange[] }

/** The XO-state plan when XO can be asked; why not otherwise. Spec problems still throw. */
export async function probeXoState(spec: Spec, open?: OpenXoApi): Promise<XoStateProbe> {
  // Nothing declared and no record this account can read (only root can): nothing to say.
  if (!xoStateDeclared(spec) && !(await xoStateWanted(spec).catch(() => false))) return { status: 'none' }
  let api: XoApi | undefined
  try {
    const admin = adminCredentials(spec)
    if (!admin) return { status: 'unreachable', reason: 'no web admin password readable here (run as root)' }
    api = await (open ?? openXoApi)(spec, admin)
  } catch (e) {
    return { status: 'unreachable', reason: (e as Error).message }
  }
  try {
    return { status: 'checked', changes: (await planXoState(spec, api)).changes }
  } catch (e) {
    // A spec problem (a plugin XO does not have, a configuration its schema refuses) is the user's to fix.
    if (e instanceof UsageError) throw e
    return { status: 'unreachable', reason: `reading XO's state failed: ${(e as Error).message}` }
  } finally {
    await api.close().catch(() => {})
  }
}

/** What `xoa plan` and `xoa status` print about XO state: nothing when there is none. */
export function probeLines(p: XoStateProbe, lines: (changes: XoChange[]) => string[]): string[] {
  if (p.status === 'none') return []
  if (p.status === 'unreachable') return [`XO state: not checked (${p.reason})`]
  return lines(p.changes)
}

export function probeJson(p: XoStateProbe) {
  if (p.status === 'none') return { checked: false as const, reason: 'nothing declared' }
  if (p.status === 'unreachable') return { checked: false as const, reason: p.reason }
  return { checked: true as const, ...xoChangesJson(p.changes) }
}
