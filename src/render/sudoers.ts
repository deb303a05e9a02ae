// sudoers drop-ins: full sudo for the key-only SSH admin, and the seed-compatible mount rules for the service
// account when mounts.mode = "sudo".
import { type Platform, SERVER_TOOLS, servicePath, toolPath } from '../platform/platform.ts'
import type { Spec } from '../spec/schema.ts'
import type { Artefact } from './index.ts'
import type { RenderEnv, RenderedFile } from './types.ts'

const SUDOERS_DIR = '/etc/sudoers.d'
const sudoersMeta = { mode: 0o440, owner: 'root', group: 'root', validate: 'visudo' } as const

/**
 * The exact programs of the seed's sudo mode, at the platform's paths: what xo-server runs through sudo
 * (SERVER_TOOLS but sudo itself). On Debian 12 (merged /usr) /bin/mount is /usr/bin/mount; sudo matches a
 * command typed by another path to the same file by device and inode.
 */
export function sudoMountCommands(p: Platform): string[] {
  return SERVER_TOOLS.filter((t) => t !== 'sudo').map((t) => toolPath(p, t))
}

export function renderAdminSudoers(spec: Spec): RenderedFile[] {
  if (!spec.admin.enable) return []
  const u = spec.admin.user
  const content = [
    '# Managed by xoa: the SSH admin account has full sudo.',
    '# NOPASSWD because the account has no password at all: it logs in with SSH keys only.',
    `${u} ALL=(ALL:ALL) NOPASSWD: ALL`,
    '',
  ].join('\n')
  return [{ path: `${SUDOERS_DIR}/xoa-admin`, content, ...sudoersMeta }]
}

export function renderMountSudoers(spec: Spec, env: RenderEnv): RenderedFile[] {
  if (spec.mounts.mode !== 'sudo') return []
  const u = spec.service.user
  const content = [
    '# Managed by xoa: seed-compatible mount rules (mounts.mode = "sudo").',
    '#',
    '# WHAT THIS GIVES AWAY: mount with arbitrary options, devices and targets is root for whoever controls',
    '# xo-server (a suid binary on a mounted share, a bind mount over /etc, ...). Exact paths and no',
    '# wildcards stop nothing once `mount` itself is allowed. That is why mounts.mode = "broker", a daemon',
    '# that checks every request against a strict policy, is the default. Use this mode only if you accept',
    '# that the service account is equivalent to root.',
    '#',
    '# xo-server passes the SMB user name and password to mount.cifs in USER and PASSWD (never in argv);',
    "# sudo's env_reset would drop them.",
    `Defaults:${u} env_keep += "USER PASSWD"`,
    '# sudo finds `mount` & co. on the PATH xo-server runs with, where the files below come first.',
    `Defaults:${u} secure_path = "${servicePath(env.platform).join(':')}"`,
    '',
    `Cmnd_Alias XO_MOUNT = ${sudoMountCommands(env.platform).join(', ')}`,
    `${u} ALL=(root) NOPASSWD: XO_MOUNT`,
    '',
  ].join('\n')
  return [{ path: `${SUDOERS_DIR}/xo-mount`, content, ...sudoersMeta }]
}

export const adminSudoersArtefact: Artefact = {
  name: 'sudoers-admin',
  description: 'sudoers drop-in: full sudo (NOPASSWD, key-only account) for the SSH admin, when admin.enable',
  render: renderAdminSudoers,
}

export const mountSudoersArtefact: Artefact = {
  name: 'sudoers-mount',
  description:
    'sudoers drop-in: exact mount commands for the service account, only when mounts.mode = "sudo"',
  render: renderMountSudoers,
}
