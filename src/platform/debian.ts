// Debian 12 and Ubuntu (merged /usr: /bin/mount is /usr/bin/mount): where their packages install each tool.
import type { Platform } from './platform.ts'

/** The PATH of a Debian service, after the tools' own directories (already on it here). */
export const DEBIAN_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']

export const DEBIAN: Platform = {
  name: 'debian',
  tools: {
    setpriv: '/usr/bin/setpriv',
    script: '/usr/bin/script',
    'redis-server': '/usr/bin/redis-server',
    systemctl: '/usr/bin/systemctl',
    journalctl: '/usr/bin/journalctl',
    'systemd-analyze': '/usr/bin/systemd-analyze',
    useradd: '/usr/sbin/useradd',
    groupadd: '/usr/sbin/groupadd',
    usermod: '/usr/sbin/usermod',
    visudo: '/usr/sbin/visudo',
    'ssh-keygen': '/usr/bin/ssh-keygen',
    sshd: '/usr/sbin/sshd',
    'dpkg-query': '/usr/bin/dpkg-query',
    'apt-get': '/usr/bin/apt-get',
    git: '/usr/bin/git',
    tar: '/usr/bin/tar',
    unshare: '/usr/bin/unshare',
    sudo: '/usr/bin/sudo',
    mount: '/usr/bin/mount',
    umount: '/usr/bin/umount',
    findmnt: '/usr/bin/findmnt',
    'mount.nfs': '/usr/sbin/mount.nfs',
    'mount.nfs4': '/usr/sbin/mount.nfs4',
    'mount.cifs': '/usr/sbin/mount.cifs',
    vhdimount: '/usr/bin/vhdimount',
    vhdiinfo: '/usr/bin/vhdiinfo',
    nologin: '/usr/sbin/nologin',
    // /etc/shells on Debian lists /bin/bash (and /usr/bin/bash); useradd keeps what it is given.
    bash: '/bin/bash',
  },
  path: DEBIAN_PATH,
}
