// Looking up an account's ids through NSS (getent), like every other tool: LDAP and sssd included.
import { execa } from 'execa'

export class AccountMissing extends Error {}

export interface Account {
  uid: number
  gid: number
}

async function getentId(db: 'passwd' | 'group', name: string): Promise<number> {
  const r = await execa('getent', [db, name], { reject: false })
  const id = r.exitCode === 0 ? Number(r.stdout.split(':')[2]) : Number.NaN
  if (!Number.isInteger(id))
    throw new AccountMissing(`the ${db === 'passwd' ? 'user' : 'group'} "${name}" does not exist`)
  return id
}

/** The uid of `user` and the gid of `group`; AccountMissing when either does not exist. */
export async function lookupAccount(user: string, group: string): Promise<Account> {
  const [uid, gid] = await Promise.all([getentId('passwd', user), getentId('group', group)])
  return { uid, gid }
}
