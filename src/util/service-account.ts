// The service account for `xoa build` and `xoa up` as root: a container has no `xoa apply`, so they create the
// account and its group themselves, with the ids the spec may fix (service.uid / service.gid), as apply does.
// An account that exists with other ids is an error naming the field: xoa never renumbers an account.
import { execa } from 'execa'
import { currentPlatform } from '../platform/load.ts'
import { type ToolName, toolPath } from '../platform/platform.ts'
import type { Spec } from '../spec/schema.ts'
import { type Account, AccountMissing, lookupAccount } from './accounts.ts'
import { XoaError } from './errors.ts'

async function getentIds(db: 'passwd' | 'group', name: string): Promise<number | undefined> {
  const r = await execa('getent', [db, name], { reject: false })
  if (r.exitCode !== 0) return undefined
  return Number(r.stdout.split(':')[2])
}

function checkId(what: string, name: string, has: number, field: string, want: number | undefined): void {
  if (want !== undefined && has !== want)
    throw new XoaError(
      `the ${what} "${name}" exists with ${field.split('.')[1]} ${has}, but ${field} = ${want}`,
      {
        hint: `set ${field} = ${has} in the spec (or remove it), or give the account id ${want} yourself`,
      },
    )
}

async function create(cmd: ToolName, args: string[], field: string): Promise<void> {
  const r = await execa(toolPath(currentPlatform(), cmd), args, {
    reject: false,
    all: true,
    env: { LC_ALL: 'C' },
  })
  if (r.exitCode === 0) return
  if ((r as { code?: string }).code === 'ENOENT' || r.exitCode === undefined)
    throw new XoaError(`${cmd} is not installed, so the service account cannot be created`, {
      hint: 'apt-get install passwd (it has useradd and groupadd), or create the account yourself',
    })
  throw new XoaError(`${cmd} failed (exit ${r.exitCode}): ${(r.all ?? '').trim()}`, {
    hint: `check ${field} and the service account names in the spec`,
  })
}

/**
 * As root: make sure service.group and service.user exist (creating them like apply does) and have the ids
 * the spec sets. Returns their ids, and what was created so the caller can say so.
 */
export async function ensureServiceAccount(spec: Spec): Promise<Account & { created: string[] }> {
  const { user, group, uid, gid } = spec.service
  const created: string[] = []
  const hasGid = await getentIds('group', group)
  if (hasGid === undefined) {
    await create(
      'groupadd',
      ['--system', ...(gid === undefined ? [] : ['--gid', String(gid)]), group],
      'service.gid',
    )
    created.push(`group ${group}`)
  } else checkId('group', group, hasGid, 'service.gid', gid)
  const hasUid = await getentIds('passwd', user)
  if (hasUid === undefined) {
    // As apply declares it (src/plan/desired.ts), less the Redis group: apply adds that when it runs.
    await create(
      'useradd',
      [
        '--system',
        ...(uid === undefined ? [] : ['--uid', String(uid)]),
        '--gid',
        group,
        '--home-dir',
        spec.xo.stateDir,
        '--no-create-home',
        '--shell',
        toolPath(currentPlatform(), 'nologin'),
        '--comment',
        'Xen Orchestra',
        user,
      ],
      'service.uid',
    )
    created.push(`user ${user}`)
  } else checkId('user', user, hasUid, 'service.uid', uid)
  try {
    return { ...(await lookupAccount(user, group)), created }
  } catch (e) {
    if (e instanceof AccountMissing) throw new XoaError(`service.user/service.group: ${e.message}`)
    throw e
  }
}
