// Who runs upstream's build scripts. `yarn install` runs every dependency's install script: that code must
// never run as root. When xoa builds as root (xo-build.service), install and build run as the service account
// in a tree it owns; then the finished release is handed back to root, read-only for everyone else, so
// xo-server can run it but never change it.
import { execa } from 'execa'
import { XoaError } from '../cli/errors.ts'
import type { Spec } from '../spec/schema.ts'
import { lookupOwner } from '../tls/files.ts'

export interface BuildAccount {
  uid: number
  gid: number
}

/** The account for untrusted build steps: the service account when we are root, else ourselves. */
export async function buildAccount(spec: Spec): Promise<BuildAccount | undefined> {
  if (process.getuid?.() !== 0) return undefined
  try {
    return await lookupOwner(spec.service.user, spec.service.group)
  } catch (e) {
    throw new XoaError(
      `service.user/service.group: ${(e as Error).message}; as root, xoa builds as that account`,
      {
        hint: 'run `xoa apply` first (it creates the account), or build as an unprivileged user',
      },
    )
  }
}

/** Give `dirs` to the build account (recursively, never following symlinks). */
export async function handTo(account: BuildAccount | undefined, dirs: string[]): Promise<void> {
  if (!account) return
  await execa('chown', ['-R', '--no-dereference', `${account.uid}:${account.gid}`, ...dirs])
}

/** Make a finished tree root's and readable by all: code, no secrets; nobody but root may change it. */
export async function sealRelease(account: BuildAccount | undefined, dir: string): Promise<void> {
  if (!account) return
  await execa('chown', ['-R', '--no-dereference', '0:0', dir])
  await execa('chmod', ['-R', 'u+rwX,go+rX,go-w', dir])
}
