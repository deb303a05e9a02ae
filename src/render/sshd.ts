// The sshd drop-in (keys only, no root) and the admin account's authorized_keys.
import { posix } from 'node:path'
import type { Spec } from '../spec/schema.ts'
import type { Artefact } from './index.ts'
import type { RenderedFile } from './types.ts'

export const SSHD_DROP_IN = '/etc/ssh/sshd_config.d/xoa.conf'

export function renderSshdDropIn(spec: Spec): RenderedFile[] {
  if (!spec.admin.enable || !spec.admin.sshd) return []
  const content = [
    '# Managed by xoa: SSH by public key only, never as root.',
    "# Debian's sshd_config includes this directory first, and for each keyword the first value sshd reads wins.",
    '#',
    '# No AllowUsers: on a shared host it would lock out every account but the admin. Without passwords',
    '# only holders of an authorized key can log in anyway, and root is refused below.',
    'PermitRootLogin no',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitEmptyPasswords no',
    'PubkeyAuthentication yes',
    'AuthenticationMethods publickey',
    '',
  ].join('\n')
  return [{ path: SSHD_DROP_IN, content, mode: 0o644, owner: 'root', group: 'root', validate: 'sshd' }]
}

/** Home of the admin account as useradd creates it (--create-home, default HOME=/home). */
export function adminHome(spec: Spec): string {
  return posix.join('/home', spec.admin.user)
}

export function renderAuthorizedKeys(spec: Spec): RenderedFile[] {
  if (!spec.admin.enable) return []
  const keys = spec.admin.authorizedKeys
  return [
    {
      path: posix.join(adminHome(spec), '.ssh', 'authorized_keys'),
      // Declarative: exactly the spec's keys; an empty list means no one can log in as the admin.
      content: ['# Managed by xoa: admin.authorizedKeys of the spec.', ...keys, ''].join('\n'),
      mode: 0o600,
      owner: spec.admin.user,
      group: spec.admin.user,
    },
  ]
}

export const sshdArtefact: Artefact = {
  name: 'sshd',
  description: `sshd drop-in ${SSHD_DROP_IN}: public keys only, no root login (when admin.sshd)`,
  render: renderSshdDropIn,
}

export const authorizedKeysArtefact: Artefact = {
  name: 'authorized_keys',
  description: "the SSH admin's authorized_keys (admin.authorizedKeys), 0600",
  render: renderAuthorizedKeys,
}
