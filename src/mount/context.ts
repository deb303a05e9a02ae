// The policy context of a spec: its directories, the service account's ids, the tool paths.

import type { Spec } from '../spec/schema.ts'
import { AccountMissing, lookupAccount } from '../util/accounts.ts'
import { resolveTools } from './tools.ts'
import type { PolicyContext } from './types.ts'

export { AccountMissing }

export async function brokerContext(spec: Spec): Promise<PolicyContext> {
  const { uid, gid } = await lookupAccount(spec.service.user, spec.service.group)
  return {
    mountsDir: spec.xo.mountsDir,
    dataDir: spec.xo.dataDir,
    uid,
    gid,
    tools: resolveTools(),
    maxImageMounts: spec.mounts.maxImageMounts,
  }
}
