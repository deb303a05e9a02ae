// A NixOS-like platform for tests: every tool in a store-like directory of its own package, sudo (and the
// setuid mount/umount NixOS also keeps) in a wrappers dir, and a system profile holding every tool again.
// Under `base` (a temp dir) when the test needs the files on disk, else at NixOS' own absolute paths.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { DEBIAN } from '../../src/platform/debian.ts'
import { type Platform, TOOLS, type ToolName } from '../../src/platform/platform.ts'

const PACKAGE: Partial<Record<ToolName, string>> = {
  'redis-server': 'redis-7.2.4',
  git: 'git-2.44.0',
  'mount.nfs': 'nfs-utils-2.6.4',
  'mount.nfs4': 'nfs-utils-2.6.4',
  'mount.cifs': 'cifs-utils-7.0',
  vhdimount: 'libvhdi-20240509',
  vhdiinfo: 'libvhdi-20240509',
  sudo: 'sudo-1.9.15',
  visudo: 'sudo-1.9.15',
  sshd: 'openssh-9.7p1',
  'ssh-keygen': 'openssh-9.7p1',
  bash: 'bash-5.2p26',
  tar: 'gnutar-1.35',
  useradd: 'shadow-4.14.6',
  groupadd: 'shadow-4.14.6',
  usermod: 'shadow-4.14.6',
  'dpkg-query': 'dpkg-1.22.6',
  'apt-get': 'apt-2.7.14',
  systemctl: 'systemd-255.4',
  journalctl: 'systemd-255.4',
  'systemd-analyze': 'systemd-255.4',
}

/** A fixed 32-character hash per package, like a store path's. */
const hash = (pkg: string) =>
  [...pkg]
    .reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7)
    .toString(32)
    .padEnd(32, '0')

export function storeLikePlatform(base = ''): Platform & { wrappers: string; profile: string } {
  const tools: Partial<Record<ToolName, string>> = {}
  for (const t of TOOLS) {
    const pkg = PACKAGE[t] ?? 'util-linux-2.39.4'
    tools[t] =
      t === 'sudo' ? `${base}/run/wrappers/bin/sudo` : `${base}/nix/store/${hash(pkg)}-${pkg}/bin/${t}`
  }
  const wrappers = `${base}/run/wrappers/bin`
  const profile = `${base}/run/current-system/sw/bin`
  return { name: 'nixos', tools, path: [wrappers, profile], wrappers, profile }
}

/** Executables at every path the platform names, plus NixOS' mount/umount wrappers and the system profile. */
export function materialize(p: ReturnType<typeof storeLikePlatform>): void {
  const exe = (path: string) => {
    mkdirSync(dirname(path), { recursive: true })
    writeFileSync(path, '#!/bin/sh\n')
    chmodSync(path, 0o755)
  }
  for (const path of Object.values(p.tools)) exe(path)
  for (const t of ['mount', 'umount']) exe(join(p.wrappers, t))
  for (const t of TOOLS) exe(join(p.profile, t))
}

/** The JSON a platform file holds (what nix/ generates from pkgs.*). */
export const platformJson = (p: Platform) =>
  `${JSON.stringify({ name: p.name, tools: p.tools, path: p.path }, null, 2)}\n`

export { DEBIAN }
