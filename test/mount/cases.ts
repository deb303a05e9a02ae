// Hostile requests for the broker policy: every one must be refused, with the reason given here.
import type { PolicyContext } from '../../src/mount/types.ts'

export const M = '/srv/xo/mounts'
export const D = '/srv/xo/data'
export const T = `${M}/r1`
export const CTX: PolicyContext = {
  mountsDir: M,
  dataDir: D,
  uid: 1000,
  gid: 1001,
  tools: {
    mount: '/usr/bin/mount',
    umount: '/usr/bin/umount',
    findmnt: '/usr/bin/findmnt',
    vhdimount: '/usr/bin/vhdimount',
    vhdiinfo: '/usr/bin/vhdiinfo',
  },
}

export interface HostileCase {
  name: string
  argv: string[]
  env?: Record<string, string>
  reason: RegExp
}

const nfs = (opts: string, dev = 'nas.example:/export/xo', target = T) => [
  'mount',
  '-o',
  opts,
  '-t',
  'nfs',
  dev,
  target,
]
const cifs = (opts: string, dev = '//nas.example\\backups/', target = T) => [
  'mount',
  '-o',
  opts,
  '-t',
  'cifs',
  dev,
  target,
]
const typ = (type: string) => ['mount', '-o', '', '-t', type, 'nas:/x', T]

const cases: HostileCase[] = []
const add = (name: string, argv: string[], reason: RegExp, env?: Record<string, string>) =>
  cases.push({ name, argv, reason, env })

// Commands that are not brokered at all.
for (const c of [
  '',
  'sh',
  'bash',
  '/bin/mount',
  '/usr/bin/mount',
  'mount.nfs',
  'mount.cifs',
  'losetup',
].concat([
  'dmsetup',
  'su',
  'chmod',
  '-u',
  'sudo',
  'MOUNT',
  'mount ',
  'vgchange',
  'env',
  'findmnt\0',
  'fusermount',
]))
  add(`command ${JSON.stringify(c)}`, [c, T], /is not brokered/)

// Environment injection: only USER and PASSWD may arrive.
for (const k of [
  'LD_PRELOAD',
  'LD_LIBRARY_PATH',
  'PATH',
  'PASSWD_FILE',
  'PASSWD_FD',
  'HOME',
  'NODE_OPTIONS',
].concat(['user', 'USER ', 'LANG', 'LIBMOUNT_FSTAB', 'LIBMOUNT_DEBUG', 'GCONV_PATH']))
  add(`env ${k}`, cifs('domain=W'), /environment variable .* is refused/, { [k]: '/tmp/evil.so' })
add('env USER with newline', cifs('domain=W'), /USER contains NUL or a newline/, { USER: 'bob\nroot' })
add('env PASSWD with NUL', cifs('domain=W'), /PASSWD contains NUL/, { PASSWD: 'a\0b' })
// mount.cifs splices USER into the option string as ",user=$USER" after the forced options (issue 10, #2).
for (const u of [
  'bob,uid=0,noforceuid,gid=0',
  'bob,unc=\\\\evil\\x',
  'x,file_mode=04777',
  'a,cruid=0,sec=krb5',
].concat(['x,noperm', ',', 'bob,', 'bob=root', 'user=root']))
  add(`env USER ${JSON.stringify(u)}`, cifs('domain=W'), /USER contains "[,=]": mount.cifs would read/, {
    USER: u,
    PASSWD: 'x',
  })
add('env USER too long', cifs('domain=W'), /USER is longer/, { USER: 'u'.repeat(300) })
add('env PASSWD too long', cifs('domain=W'), /PASSWD is longer/, { PASSWD: 'p'.repeat(2000) })

// Mount points: traversal, prefixes, not a direct child, odd characters.
const targets: [string, RegExp][] = [
  [`${M}/../etc`, /not a direct child|forbidden|direct child/],
  [`${M}/r1/../../etc`, /not a direct child/],
  ['/etc', /is not under/],
  ['/', /is not under/],
  [M, /not the directory itself/],
  [`${M}/`, /not the directory itself/],
  [`${M}//r1`, /not a direct child/],
  [`${M}/./r1`, /not a direct child/],
  [`${M}/r1/`, /not a direct child/],
  [`${M}/a/b`, /not a direct child/],
  ['r1', /is not under/],
  ['../r1', /is not under/],
  [`${M}x/r1`, /is not under/],
  [`${M}/..`, /not a direct child/],
  [`${M}/.`, /not a direct child/],
  [`${M}/r1\0`, /control character/],
  [`${M}/r 1`, /forbidden characters/],
  [`${M}/r1\n`, /control character/],
  [`${M}/r1;rm -rf`, /forbidden characters/],
  [`${M}/$(id)`, /forbidden characters|not a direct child/],
  [`${M}/${'a'.repeat(200)}`, /forbidden characters/],
  ['/srv/xo', /is not under/],
  ['/proc/self/fd/3', /is not under/],
]
for (const [t, r] of targets) add(`mount target ${JSON.stringify(t)}`, nfs('', undefined, t), r)

// Filesystem types.
for (const t of [
  'ext4',
  'xfs',
  'tmpfs',
  'proc',
  'sysfs',
  'overlay',
  'fuse',
  'fuse.sshfs',
  'nfs,tmpfs',
  'cifs ',
].concat([
  'NFS',
  'smb3',
  'smbfs',
  'devtmpfs',
  'auto',
  'none',
  'bind',
  '9p',
  'squashfs',
  'ramfs',
  'nonfs',
  '',
]))
  add(`type ${JSON.stringify(t)}`, typ(t), /filesystem type .* is refused/)

// NFS options.
const nfsOpts: [string, RegExp][] = [
  ['suid', /undo the forced/],
  ['dev', /undo the forced/],
  ['exec', /undo the forced/],
  ['defaults', /undo the forced/],
  ['vers=3,suid', /undo the forced/],
  ['nosuid,suid', /undo the forced/],
  [',,exec', /undo the forced/],
  ['bind', /bind, move and remount/],
  ['rbind', /bind, move and remount/],
  ['move', /bind, move and remount/],
  ['remount', /bind, move and remount/],
  ['make-shared', /bind, move and remount/],
  ['loop', /loop devices/],
  ['loop=/dev/loop0', /loop devices/],
  ['offset=0', /loop devices/],
  ['sizelimit=1', /loop devices/],
  ['X-mount.mkdir', /X-mount/],
  ['X-mount.owner=0', /X-mount/],
  ['x-systemd.automount', /X-mount/],
  ['helper=/tmp/x', /helpers are refused/],
  ['uhelper=udisks2', /helpers are refused/],
  ['user', /travel in USER\/PASSWD/],
  ['users', /user-mountable/],
  ['owner', /user-mountable/],
  ['group', /user-mountable/],
  ['uid=0', /forced to the service account/],
  ['gid=0', /forced to the service account/],
  ['context=system_u:object_r:tmp_t', /not allowed for nfs/],
  ['vers=3\nsuid', /forbidden character/],
  ['vers=3 suid', /forbidden character/],
  ['vers=3\0,suid', /forbidden character/],
  ['vers=3\tsuid', /forbidden character/],
  ['vers=3\r', /forbidden character/],
  ["vers='3'", /forbidden character/],
  ['vers=3;id', /forbidden character/],
  ['vers=3`id`', /forbidden character/],
  ['vers=$(id)', /forbidden character/],
  ['port=99999', /invalid value/],
  ['port=0', /invalid value/],
  ['port=-1', /invalid value/],
  ['port=2049,port=111', /given twice/],
  ['vers=5', /invalid value/],
  ['vers=3=4', /invalid value/],
  ['vers=', /invalid value/],
  ['vers', /needs a value/],
  ['soft=1', /takes no value/],
  ['proto=raw', /invalid value/],
  ['sec=foo', /invalid value/],
  ['clientaddr=evil.example', /invalid value/],
  ['timeo=1e9', /invalid value/],
  ['rsize=0x10', /invalid value/],
  ['toString', /not allowed for nfs/],
  ['constructor', /not allowed for nfs/],
  ['__proto__', /not allowed for nfs/],
  ['bg', /not allowed for nfs/],
  ['addr=10.0.0.1', /not allowed for nfs/],
  ['mountvers=a', /invalid value/],
  ['nfsvers=4.3', /invalid value/],
  ['lookupcache=x', /invalid value/],
  ['=suid', /malformed option/],
  ['-o', /malformed option/],
  ['a'.repeat(2000), /longer than 1024/],
  ['vers=3,credentials=/etc/shadow', /credentials files are refused/],
  ['password=x', /travel in USER\/PASSWD/],
  ['nfs.nosuid=0', /not allowed for nfs/],
]
for (const [o, r] of nfsOpts) add(`nfs option ${JSON.stringify(o)}`, nfs(o), r)

// CIFS options.
const cifsOpts: [string, RegExp][] = [
  ['credentials=/etc/shadow', /credentials files are refused/],
  ['domain=W,credentials=/etc/shadow', /credentials files are refused/],
  ['cred=/etc/shadow', /credentials files are refused/],
  ['username=root', /travel in USER\/PASSWD/],
  ['user=admin', /travel in USER\/PASSWD/],
  ['password=hunter2', /travel in USER\/PASSWD/],
  ['pass=hunter2', /travel in USER\/PASSWD/],
  ['password2=x', /travel in USER\/PASSWD/],
  ['file_mode=4755', /invalid value/],
  ['dir_mode=6777', /invalid value/],
  ['file_mode=07777', /invalid value/],
  ['domain=-x', /invalid value/],
  ['domain=a b', /forbidden character/],
  ['domain=W\\admin', /forbidden character/],
  ['iocharset=../../x', /invalid value/],
  ['sec=krb6', /invalid value/],
  ['vers=9', /invalid value/],
  ['noperm', /not allowed for cifs/],
  ['setuids', /undo the forced/],
  ['unc=//x/y', /given only by the device/],
  ['prefixpath=/x', /given only by the device/],
  ['forceuid', /forced to the service account/],
  ['forcegid', /forced to the service account/],
  ['noforceuid', /forced to the service account/],
  ['backupuid=0', /forced to the service account/],
  ['cruid=0', /forced to the service account/],
  ['uid=0,gid=0', /forced to the service account/],
  ['ip=999.1.1.1', /invalid value/],
  ['cache=x', /invalid value/],
  ['vers=3.0,exec', /undo the forced/],
  ['domain=W,,suid', /undo the forced/],
  ['nolock', /not allowed for cifs/],
]
for (const [o, r] of cifsOpts) add(`cifs option ${JSON.stringify(o)}`, cifs(o), r)

// Devices.
const nfsDevs: [string, RegExp][] = [
  ['/dev/sda1', /not host:\/path/],
  ['host', /not host:\/path/],
  ['host:', /not an absolute path/],
  ['host:relative', /not an absolute path/],
  [':/path', /not host:\/path/],
  ['-ohelper:/x', /flag .* is refused/],
  ['ho st:/x', /not a DNS name/],
  ['host:/a b', /not an absolute path/],
  ['host:/a,b', /not an absolute path/],
  ['host:/x\n', /not host:\/path/],
  ['a..b:/x', /not a DNS name/],
  ['host_x:/x', /not a DNS name/],
  ['LABEL=root', /not host:\/path/],
  ['UUID=1234', /not host:\/path/],
  ['tmpfs', /not host:\/path/],
  ['host:/x;id', /not an absolute path/],
  ['[zz]:/x', /not a DNS name/],
  ['host:/x$(id)', /not an absolute path/],
]
for (const [d, r] of nfsDevs) add(`nfs device ${JSON.stringify(d)}`, nfs('', d), r)
const cifsDevs: [string, RegExp][] = [
  ['//host', /not \/\/host\/share/],
  ['//host/', /not \/\/host\/share/],
  ['\\\\host\\share', /not \/\/host\/share/],
  ['//ho st/share', /not a DNS name/],
  ['//host/sh are', /forbidden characters/],
  ['/host/share', /not \/\/host\/share/],
  ['//-o/share', /not a DNS name/],
  ['host:/share', /not \/\/host\/share/],
  ['//host/share/a b', /forbidden characters/],
  ['//host/share\n', /forbidden characters/],
  ["//host/sh'are", /forbidden characters/],
  ['/dev/sda', /not \/\/host\/share/],
]
for (const [d, r] of cifsDevs) add(`cifs device ${JSON.stringify(d)}`, cifs('domain=W', d), r)

// mount argv structure: flags, missing or repeated -o/-t, positionals.
const shapes: [string, string[], RegExp][] = [
  ['no -o', ['mount', '-t', 'nfs', 'h:/x', T], /-o OPTIONS is required/],
  ['no -t', ['mount', '-o', 'vers=3', 'h:/x', T], /-t TYPE is required/],
  ['-o twice', ['mount', '-o', 'vers=3', '-o', 'suid', '-t', 'nfs', 'h:/x', T], /-o given twice/],
  ['-t twice', ['mount', '-o', '', '-t', 'nfs', '-t', 'tmpfs', 'h:/x', T], /-t given twice/],
  ['-o at the end', ['mount', '-t', 'nfs', 'h:/x', T, '-o'], /-o needs a value/],
  ['extra positional', ['mount', '-o', '', '-t', 'nfs', 'h:/x', T, '/etc'], /got 3 positional/],
  ['one positional', ['mount', '-o', '', '-t', 'nfs', T], /got 1 positional/],
  ['no positional', ['mount', '-o', '', '-t', 'nfs'], /got 0 positional/],
  ['bare mount', ['mount'], /-o OPTIONS is required/],
]
for (const f of [
  '--bind',
  '-B',
  '-M',
  '--move',
  '-O',
  '--options',
  '--fstab',
  '-a',
  '-T',
  '--target',
  '--source',
].concat([
  '-i',
  '-f',
  '-n',
  '-r',
  '-w',
  '--',
  '-oro',
  '-tnfs',
  '-L',
  '-U',
  '-N',
  '--namespace',
  '--rbind',
  '-R',
]))
  shapes.push([`flag ${f}`, ['mount', f, '-o', '', '-t', 'nfs', 'h:/x', T], /flag .* is refused/])
for (const [n, argv, r] of shapes) add(`mount ${n}`, argv, r)

// umount and findmnt.
const umounts: [string[], RegExp][] = [
  [['/'], /is not under/],
  [['/etc'], /is not under/],
  [['/proc'], /is not under/],
  [[M], /not the directory itself/],
  [[`${M}/`], /not the directory itself/],
  [[`${M}/../x`], /not a direct child/],
  [[`${M}/a/b`], /not a direct child/],
  [[`${M}x/r1`], /is not under/],
  [['-l', '-l', T], /exactly one argument/],
  [['-l'], /exactly one argument/],
  [['-l', '/etc'], /is not under/],
  [[T, '-l'], /exactly one argument/],
  [['-f', T], /exactly one argument/],
  [['-a'], /is not under/],
  [['-R'], /is not under/],
  [['--recursive'], /is not under/],
  [[], /exactly one argument/],
  [[T, `${M}/r2`], /exactly one argument/],
]
for (const [a, r] of umounts) add(`umount ${JSON.stringify(a)}`, ['umount', ...a], r)
const findmnts: [string[], RegExp][] = [
  [[], /exactly one argument/],
  [['-o', 'TARGET'], /exactly one argument/],
  [['/etc'], /is not under/],
  [['--poll'], /is not under/],
  [['-F', '/etc/fstab'], /exactly one argument/],
]
for (const [a, r] of findmnts) add(`findmnt ${JSON.stringify(a)}`, ['findmnt', ...a], r)

// vhdimount / vhdiinfo.
const img = `${M}/r1/xo-vm-backups/vm/disk.vhd`
const vhdimounts: [string[], RegExp][] = [
  [['/dev/sda', `${M}/v`], /is not below/],
  [['/etc/shadow', `${M}/v`], /is not below/],
  [[`${M}/../../../etc/shadow`, `${M}/v`], /not normalised/],
  [['a.vhd', `${M}/v`], /not absolute/],
  [[M, `${M}/v`], /is not below/],
  [[`${D}x/a.vhd`, `${M}/v`], /is not below/],
  [[`${D}//a.vhd`, `${M}/v`], /not normalised/],
  [[`${D}/./a.vhd`, `${M}/v`], /not normalised/],
  [[`${D}/a.vhd\n`, `${M}/v`], /control character/],
  [['-X', 'allow_other', img, `${M}/v`], /exactly IMAGE and DIR/],
  [['-v', img, `${M}/v`], /exactly IMAGE and DIR/],
  [[img, '/mnt'], /is not under/],
  [[img, M], /not the directory itself/],
  [[img, `${M}/a/b`], /not a direct child/],
  [['-h'], /exactly IMAGE and DIR/],
  [[img], /exactly IMAGE and DIR/],
  [['/proc/self/fd/3', `${M}/v`], /is not below/],
]
for (const [a, r] of vhdimounts) add(`vhdimount ${JSON.stringify(a)}`, ['vhdimount', ...a], r)
const vhdiinfos: [string[], RegExp][] = [
  [['/dev/sda'], /is not below/],
  [['/etc/shadow'], /is not below/],
  [[img, img], /exactly one argument/],
  [['-o', img], /exactly one argument/],
  [['disk.vhd'], /not absolute/],
  [[`${D}/../../../etc/shadow`], /not normalised/],
  [['-v'], /not absolute/],
]
for (const [a, r] of vhdiinfos) add(`vhdiinfo ${JSON.stringify(a)}`, ['vhdiinfo', ...a], r)

// Sizes.
add('empty argv', [], /empty command/)
add('17 arguments', ['umount', ...Array(16).fill(T)], /more than 16 arguments/)
add('5000-character argument', ['umount', `${M}/${'a'.repeat(5000)}`], /longer than 4096/)

export const HOSTILE: readonly HostileCase[] = cases
