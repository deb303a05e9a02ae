// The Debian packages a host running xoa needs, by the feature that needs them, and which package provides each
// external tool apply, its validators and the bootstrap run. `xoa apply` installs the packages first (on a live
// host), so the validators find their tools; a tool still missing is an error naming its package, never a crash.

import { currentPlatform } from '../platform/load.ts'
import { describePlatform, servicePath, type ToolName, toolPath } from '../platform/platform.ts'
import type { Spec } from '../spec/schema.ts'
import { XoaError } from '../util/errors.ts'

/** Every host: XO's runtime and the tools the validators run (`visudo` comes with sudo). */
export const RUNTIME_PACKAGES = [
  'redis-server', // the dedicated redis-xo instance
  'git', // xo-server's build reads `git rev-parse`; the source mirror
  'openssl', // certificates
  'sudo', // visudo for every sudoers file, seed-compatible mount mode, the admin account
  'nfs-common', // NFS remotes
  'cifs-utils', // SMB remotes
  'libvhdi-utils', // vhdimount for file-level restore
  'lvm2', // file-level restore of LVM disks
  'fuse3', // FUSE-based file-level restore
  'ca-certificates', // HTTPS to XCP-ng hosts and the source
] as const

/** The packages the spec needs: the runtime ones, plus openssh-server when apply installs an sshd drop-in. */
export function packagesFor(spec: Spec): string[] {
  // sshd -t validates the drop-in and ssh-keygen (openssh-client, a dependency) makes its throwaway host key.
  const sshd = spec.admin.enable && spec.admin.sshd ? ['openssh-server'] : []
  return [...RUNTIME_PACKAGES, ...sshd]
}

/**
 * Debian's postinst starts these units the moment apt installs the package; xoa replaces them, so apply masks
 * each one before installing its package (never when the package was there before: the unit is the admin's).
 */
export const STOCK_UNITS: Record<string, { unit: string; why: string }> = {
  'redis-server': {
    unit: 'redis-server.service',
    why: "Debian's stock Redis listens on 127.0.0.1:6379 with no password; xoa runs its own redis-xo on a socket",
  },
}

/** The stock units to mask before installing these packages (those of packages being newly installed). */
export function stockUnitsFor(installing: string[]): { pkg: string; unit: string; why: string }[] {
  return installing.flatMap((pkg) => {
    const s = STOCK_UNITS[pkg]
    return s ? [{ pkg, ...s }] : []
  })
}

/** The Debian package of each external tool xoa runs: what a missing one tells the user to install. */
export const TOOL_PACKAGE: Record<string, string> = {
  'apt-get': 'apt',
  'dpkg-query': 'dpkg',
  groupadd: 'passwd',
  useradd: 'passwd',
  usermod: 'passwd',
  visudo: 'sudo',
  'ssh-keygen': 'openssh-client',
  sshd: 'openssh-server',
  'systemd-analyze': 'systemd',
  systemctl: 'systemd',
  unshare: 'util-linux',
  setpriv: 'util-linux',
  script: 'bsdutils',
  git: 'git',
  'redis-server': 'redis-server',
}

/** A tool that could not be started: what to install, instead of `spawn TOOL ENOENT`. */
export function missingTool(tool: ToolName, what: string): XoaError {
  const pkg = TOOL_PACKAGE[tool]
  const p = currentPlatform()
  return new XoaError(
    `${what} needs \`${tool}\` at ${toolPath(p, tool)} (platform ${describePlatform(p)}), which is not installed`,
    {
      hint: p.file
        ? `install it, or fix "${tool}" in ${p.file}, then run it again`
        : pkg
          ? `apt-get install ${pkg} (on a live host \`xoa apply\` installs it), then run it again`
          : `install ${tool}, then run it again`,
    },
  )
}

/** execa's result (with reject: false) for a command that never started because it does not exist. */
export function notFound(r: { code?: string; exitCode?: number }): boolean {
  return r.code === 'ENOENT' && r.exitCode === undefined
}

/**
 * PATH for the tools xoa runs as root (for what they run in turn): ours, then the platform's service PATH —
 * Debian keeps groupadd, sshd and visudo in sbin, which `su` leaves out.
 */
export function toolEnv(): { PATH: string } {
  const path = (process.env.PATH ?? '').split(':').filter(Boolean)
  for (const d of servicePath(currentPlatform())) if (!path.includes(d)) path.push(d)
  return { PATH: path.join(':') }
}
