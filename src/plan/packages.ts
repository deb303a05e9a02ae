// Debian packages XO needs at runtime; `xoa apply` installs them on a live host (scripts/setup.sh defers to it).
export const RUNTIME_PACKAGES = [
  'redis-server', // the dedicated redis-xo instance
  'git', // xo-server's build reads `git rev-parse`; the source mirror
  'openssl', // certificates
  'sudo', // seed-compatible mount mode, the admin account
  'nfs-common', // NFS remotes
  'cifs-utils', // SMB remotes
  'libvhdi-utils', // vhdimount for file-level restore
  'lvm2', // file-level restore of LVM disks
  'fuse3', // FUSE-based file-level restore
  'ca-certificates', // HTTPS to XCP-ng hosts and the source
] as const
