// The policy context of a spec: its directories, the service account's ids, the tool paths.
import { execa } from 'execa'
import type { Spec } from '../spec/schema.ts'
import { resolveTools } from './tools.ts'
import type { PolicyContext } from './types.ts'

export class AccountMissing extends Error {}

async function getent(db: 'passwd' | 'group', name: string): Promise<number> {
  const r = await execa('getent', [db, name], { reject: false })
  const id = Number(r.stdout.split(':')[2])
  if (r.exitCode !== 0 || !Number.isInteger(id))
    throw new AccountMissing(`${db === 'passwd' ? 'user' : 'group'} ${JSON.stringify(name)} does not exist`)
  return id
}

export async function brokerContext(spec: Spec): Promise<PolicyContext> {
  const [uid, gid] = await Promise.all([
    getent('passwd', spec.service.user),
    getent('group', spec.service.group),
  ])
  return { mountsDir: spec.xo.mountsDir, dataDir: spec.xo.dataDir, uid, gid, tools: resolveTools() }
}
