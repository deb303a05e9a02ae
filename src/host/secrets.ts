// Every secret a host running xoa holds: where it lives in each run mode, its owner and mode, and what makes it.
// The one description: xoa bootstrap (src/run/secrets.ts) writes them, the plan shows them as managed at run
// time, doctor checks them, docs/secrets.md lists them. Pure.

import { secretEnvFile } from '../render/xo-server-unit.ts'
import { statePaths } from '../spec/paths.ts'
import type { Spec } from '../spec/schema.ts'
import { envSecretRefs, settingsSecretRefs } from '../spec/secret-refs.ts'
import { hostLayout, type RunMode } from './layout.ts'

export type SecretId = 'admin-password' | 'session-secret' | 'xo-server-secrets' | 'xo-server-env'

export interface HostSecret {
  id: SecretId
  path: string
  /** Always root: the service account never owns a secret it could swap for another. */
  owner: 'root'
  group: string
  mode: number
  description: string
  /** Declared by the user (webAdmin.passwordFile): read, checked, never written by xoa. */
  declared?: boolean
}

/** The secrets of `spec` in `mode`, in the order bootstrap makes them (a later one may use an earlier one). */
export function hostSecrets(spec: Spec, mode: RunMode): HostSecret[] {
  const p = statePaths(spec)
  const layout = hostLayout(spec, mode)
  const settingsRefs = settingsSecretRefs(spec.xo.settings).length
  const envRefs = envSecretRefs(spec.xo.extraServerEnv).length
  const rootOnly = { owner: 'root', group: 'root', mode: 0o600 } as const
  return [
    {
      id: 'admin-password',
      path: p.adminPasswordFile,
      ...rootOnly,
      ...(spec.webAdmin.passwordFile === undefined
        ? { description: `password of ${spec.webAdmin.email} (generated once)` }
        : { description: `password of ${spec.webAdmin.email} (webAdmin.passwordFile)`, declared: true }),
    },
    {
      id: 'session-secret',
      path: sessionSecretFile(spec),
      ...rootOnly,
      description: 'xo-server session secret',
    },
    {
      id: 'xo-server-secrets',
      path: layout.xoSecrets,
      owner: 'root',
      // xo-server reads it as the service account, through its group.
      group: spec.service.group,
      mode: 0o640,
      description: `xo-server's secret config (session secret${settingsRefs ? `, ${settingsRefs} xo.settings value(s) from files` : ''})`,
    },
    {
      id: 'xo-server-env',
      path: secretEnvFile(spec),
      ...rootOnly,
      description: `xo-server's secret environment (${envRefs} xo.extraServerEnv value(s) from files)`,
    },
  ]
}

export function sessionSecretFile(spec: Spec): string {
  return `${statePaths(spec).secrets}/session-secret`
}
