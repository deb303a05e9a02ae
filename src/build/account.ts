// Who runs upstream's build scripts. `yarn install` runs every dependency's install script: that code must
// never run as root. When xoa builds as root (xo-build.service), install and build run as the service account
// in a tree it owns; then the finished release is handed back to root, read-only for everyone else, so
// xo-server can run it but never change it.
import { chmodSync, chownSync, lstatSync } from 'node:fs'
import { execa } from 'execa'
import type { Spec } from '../spec/schema.ts'
import { ensureServiceAccount } from '../util/service-account.ts'

export interface BuildAccount {
  uid: number
  gid: number
}

/**
 * The account for untrusted build steps: the service account when we are root (created when missing, as a
 * container has no `xoa apply`), else ourselves.
 */
export async function buildAccount(
  spec: Spec,
  log: (line: string) => void,
): Promise<BuildAccount | undefined> {
  if (process.getuid?.() !== 0) return undefined
  const { uid, gid, created } = await ensureServiceAccount(spec)
  if (created.length) log(`created the service account: ${created.join(', ')} (uid ${uid}, gid ${gid})`)
  return { uid, gid }
}

/**
 * Give `dirs` to the build account (recursively, never following symlinks). A dir whose top is already the
 * account's is skipped: the yarn cache of real XO holds ~100k files.
 */
export async function handTo(account: BuildAccount | undefined, dirs: string[]): Promise<void> {
  if (!account) return
  const todo = dirs.filter((d) => lstatSync(d).uid !== account.uid)
  if (todo.length > 0)
    await execa('chown', ['-R', '--no-dereference', `${account.uid}:${account.gid}`, ...todo])
}

/**
 * Let the account pass through root's dirs on the way to its tree (state, releases, cache), as apply lays
 * them out (root:<service group> 0750): under a umask of 0027 a dir the build made itself would shut it out.
 */
export function openPathTo(account: BuildAccount | undefined, dirs: string[]): void {
  if (!account) return
  for (const d of dirs) {
    const st = lstatSync(d)
    if (st.uid !== 0 || st.isSymbolicLink()) continue
    if (st.gid !== account.gid) chownSync(d, 0, account.gid)
    if ((st.mode & 0o050) !== 0o050) chmodSync(d, (st.mode & 0o7777) | 0o050)
  }
}

/** Make a finished tree root's and readable by all: code, no secrets; nobody but root may change it. */
export async function sealRelease(account: BuildAccount | undefined, dir: string): Promise<void> {
  if (!account) return
  await execa('chown', ['-R', '--no-dereference', '0:0', dir])
  await execa('chmod', ['-R', 'u+rwX,go+rX,go-w', dir])
}
