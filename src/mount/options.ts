// Mount option allowlists per filesystem type. Every value is checked against a pattern that admits no
// comma, space, quote, backslash or "=", so an option string can never smuggle a second option.
export type FsType = 'nfs' | 'nfs4' | 'cifs'

type ValueCheck = RegExp | ((v: string) => boolean)

const num: ValueCheck = /^\d{1,9}$/
const port: ValueCheck = (v) => /^\d{1,5}$/.test(v) && Number(v) >= 1 && Number(v) <= 65535
export const isIp = (v: string): boolean =>
  (/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(v) && v.split('.').every((o) => Number(o) <= 255)) ||
  (/^[0-9A-Fa-f:]{2,39}$/.test(v) && v.includes(':'))

/** Options the user may pass; `null` = a flag without value. */
const NFS: Record<string, ValueCheck | null> = {
  vers: /^(2|3|4|4\.0|4\.1|4\.2)$/,
  nfsvers: /^(2|3|4|4\.0|4\.1|4\.2)$/,
  minorversion: /^[0-2]$/,
  port,
  mountport: port,
  proto: /^(tcp|udp|tcp6|udp6|rdma|rdma6)$/,
  mountproto: /^(tcp|udp|tcp6|udp6)$/,
  sec: /^(sys|none|krb5|krb5i|krb5p)(:(sys|none|krb5|krb5i|krb5p))*$/,
  local_lock: /^(none|all|flock|posix)$/,
  lookupcache: /^(all|none|pos|positive)$/,
  clientaddr: isIp,
  ...Object.fromEntries(
    ['timeo', 'retrans', 'retry', 'rsize', 'wsize', 'acregmin', 'acregmax', 'acdirmin', 'acdirmax']
      .concat(['actimeo', 'nconnect', 'namlen', 'mountvers'])
      .map((k) => [k, num]),
  ),
  ...Object.fromEntries(
    ['soft', 'hard', 'softerr', 'nolock', 'lock', 'ro', 'rw', 'noac', 'ac', 'intr', 'nointr', 'tcp', 'udp']
      .concat(['rdma', 'noatime', 'atime', 'relatime', 'norelatime', 'nodiratime', 'diratime', 'strictatime'])
      .concat(['sync', 'async', 'cto', 'nocto', 'sharecache', 'nosharecache', 'resvport', 'noresvport'])
      .concat(['fg', 'nofail', '_netdev', 'fsc', 'nofsc', 'acl', 'noacl', 'rdirplus', 'nordirplus'])
      .map((k) => [k, null]),
  ),
}

const CIFS: Record<string, ValueCheck | null> = {
  domain: /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/,
  dom: /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/,
  workgroup: /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/,
  vers: /^(1\.0|2\.0|2\.1|3|3\.0|3\.02|3\.0\.2|3\.1\.1|default)$/,
  sec: /^(none|krb5i?|ntlmi?|ntlmv2i?|ntlmsspi?)$/,
  // Permission bits only: no setuid/setgid/sticky bits even though nosuid is forced.
  file_mode: /^0?[0-7]{3}$/,
  dir_mode: /^0?[0-7]{3}$/,
  iocharset: /^[A-Za-z0-9_-]{1,32}$/,
  port,
  cache: /^(strict|none|loose|singleclient|ro)$/,
  ip: isIp,
  addr: isIp,
  ...Object.fromEntries(
    ['actimeo', 'acregmax', 'acdirmax', 'rsize', 'wsize', 'echo_interval', 'handletimeout', 'max_credits']
      .concat(['max_channels', 'bsize', 'closetimeo'])
      .map((k) => [k, num]),
  ),
  ...Object.fromEntries(
    ['seal', 'sign', 'ro', 'rw', 'hard', 'soft', 'serverino', 'noserverino', 'nobrl', 'brl', 'mfsymlinks']
      .concat(['nocase', 'ignorecase', 'nounix', 'unix', 'nolinux', 'multichannel', 'nosharesock', 'guest'])
      .concat(['resilienthandles', 'persistenthandles', 'noatime', 'relatime', 'nostrictsync', 'nofail'])
      .concat(['_netdev', 'nosetuids', 'noacl'])
      .map((k) => [k, null]),
  ),
}

const ALLOWED: Record<FsType, Record<string, ValueCheck | null>> = { nfs: NFS, nfs4: NFS, cifs: CIFS }

/** Always appended last (mount(8): the last occurrence wins), so nothing before can undo them. */
const FORCED = ['nosuid', 'nodev', 'noexec']

/** Options refused by name, with the reason a person reading the log needs. */
const REFUSED: [RegExp, string][] = [
  [/^(credentials|cred)$/, 'credentials files are refused: SMB credentials travel in USER/PASSWD'],
  [
    /^(username|user|password|pass|password2)$/,
    'user names and passwords are refused in options: they travel in USER/PASSWD, never argv',
  ],
  [/^(users|owner|group|nouser)$/, 'user-mountable options are refused'],
  [/^(helper|uhelper)$/, 'mount helpers are refused'],
  [/^(bind|rbind|move|rmove|remount|make-.*)$/, 'bind, move and remount are refused'],
  [/^(loop|offset|sizelimit|encryption)$/, 'loop devices are refused'],
  [/^x-/i, 'X-mount.* and x-* options are refused'],
  [/^(suid|dev|exec|setuids|defaults)$/, 'would undo the forced nosuid,nodev,noexec'],
  [
    /^(uid|gid|forceuid|forcegid|noforceuid|noforcegid|cruid|backupuid|backupgid)$/,
    'uid/gid are forced to the service account',
  ],
  [/^(unc|prefixpath)$/, 'the share is given only by the device argument'],
]

export type OptionsResult = { ok: true; options: string } | { ok: false; reason: string }

/** Validate the `-o` value for `type`; returns the option string mount(8) gets, forced options appended. */
export function checkOptions(type: FsType, raw: string, ids: { uid: number; gid: number }): OptionsResult {
  const bad = /[\0-\x1f\x7f "'\\`$;|&<>]/.exec(raw)
  if (bad) return { ok: false, reason: `options contain a forbidden character ${JSON.stringify(bad[0])}` }
  if (raw.length > 1024) return { ok: false, reason: 'options are longer than 1024 characters' }
  const kept: string[] = []
  const seen = new Set<string>()
  for (const item of raw.split(',')) {
    // upstream joins its option sources with "," and may leave an empty item; it means nothing.
    if (item === '') continue
    const eq = item.indexOf('=')
    const name = eq === -1 ? item : item.slice(0, eq)
    const value = eq === -1 ? undefined : item.slice(eq + 1)
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name)) return { ok: false, reason: `malformed option "${item}"` }
    const refused = REFUSED.find(([re]) => re.test(name))
    if (refused) return { ok: false, reason: `option "${name}": ${refused[1]}` }
    if (FORCED.includes(name) && value === undefined) continue
    // hasOwn, not `in`: "constructor" or "toString" must not count as allowed options.
    const check = Object.hasOwn(ALLOWED[type], name) ? ALLOWED[type][name] : undefined
    if (check === undefined) return { ok: false, reason: `option "${name}" is not allowed for ${type}` }
    if (check === null) {
      if (value !== undefined) return { ok: false, reason: `option "${name}" takes no value` }
    } else {
      if (value === undefined) return { ok: false, reason: `option "${name}" needs a value` }
      const fine = typeof check === 'function' ? check(value) : check.test(value)
      if (!fine) return { ok: false, reason: `option "${name}" has an invalid value "${value}"` }
    }
    if (seen.has(name)) return { ok: false, reason: `option "${name}" is given twice` }
    seen.add(name)
    kept.push(item)
  }
  const forced =
    type === 'cifs' ? [...FORCED, `uid=${ids.uid}`, `gid=${ids.gid}`, 'forceuid', 'forcegid'] : FORCED
  return { ok: true, options: [...kept, ...forced].join(',') }
}
