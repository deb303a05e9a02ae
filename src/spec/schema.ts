// The one schema behind xoa.toml, the JSON the NixOS module writes, and every rendered file.
// The `xo` section carries the seed's option names (NixOS `xoa.xo.*`); the other sections are ours.
import { z } from 'zod'
import { secretFileRef } from './secret-file.ts'
import { settingsSecretProblems } from './secret-refs.ts'
import { xoStateSchema } from './xo-state.ts'

const absPath = z
  .string()
  .min(1)
  .refine((p) => p.startsWith('/'), 'must be an absolute path')
  .refine((p) => !p.split('/').includes('..'), 'must not contain ".."')
  .refine((p) => !/[\0\n\r]/.test(p), 'must not contain NUL or newlines')
  .refine((p) => p === '/' || !p.endsWith('/'), 'must not end with "/"')
  // systemd refuses a path that is not normalised in the units it is written into (ReadWritePaths=, …).
  .refine((p) => !/\/\/|\/\.(\/|$)/.test(p), 'must be normalised (no "//" or "/./")')

/**
 * Redis's socket directory and data dir become RuntimeDirectory=/StateDirectory= when under /run or /var/lib;
 * there ":" separates a symlink target (systemd.exec(5)) and "\" is unescaped twice, whatever the quoting.
 */
const execDirPath = absPath.refine(
  (p) => !/[:\\]/.test(p),
  'must not contain ":" or "\\" (it is written into RuntimeDirectory=/StateDirectory=)',
)

/** An OnCalendar= expression (systemd.time(7)): what calendar syntax uses, nothing a unit would expand. */
const calendar = z
  .string()
  .min(1)
  .regex(
    /^[A-Za-z0-9 _*,.:/~+-]+$/,
    'must be a systemd calendar expression (letters, digits, spaces and * , . : / ~ + - _ only)',
  )

const port = z.int().min(1).max(65535)
const unixName = z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'must be a valid Unix user or group name')
const noNewline = z.string().refine((s) => !/[\0\n\r]/.test(s), 'must not contain NUL or newlines')

const ssl = z.strictObject({
  enable: z.boolean().default(true).describe('Serve HTTPS on xo.httpsPort.'),
  dir: absPath.default('/etc/ssl/xo').describe('Directory holding the key and certificate.'),
  key: absPath
    .default('/etc/ssl/xo/key.pem')
    .describe('Private key (PEM), 0600, owned by the service account.'),
  cert: absPath.default('/etc/ssl/xo/certificate.pem').describe('Certificate (PEM), 0644.'),
  generate: z
    .boolean()
    .default(true)
    .describe('Create a self-signed certificate when none exists; never replaces one xoa did not make.'),
})

const xo = z.strictObject({
  host: z
    .string()
    .regex(/^[0-9A-Za-z.:_-]+$/, 'must be an IP address or host name')
    .default('0.0.0.0')
    .describe('Address xo-server listens on.'),
  port: port.default(80).describe('HTTP port (redirects to HTTPS when SSL is on).'),
  httpsPort: port.default(443).describe('HTTPS port.'),
  hostname: z
    .string()
    .regex(/^[0-9A-Za-z.-]+$/, 'must be a DNS name')
    .max(253)
    .optional()
    .describe("Name in the certificate (CN and SAN); defaults to the machine's host name."),
  ssl: ssl.prefault({}),
  dataDir: absPath.default('/var/lib/xo/data').describe('xo-server datadir (LevelDB, backup metadata).'),
  tempDir: absPath.default('/var/lib/xo/tmp').describe('Temporary files.'),
  mountsDir: absPath.default('/var/lib/xo/mounts').describe('Remote and VHD mount points.'),
  stateDir: absPath
    // Its bin dir goes first on xo-server's PATH, and the release's node is an ExecStart= path, which systemd
    // refuses when it holds a quote or a backslash.
    .refine(
      (p) => !/[:"'\\]/.test(p),
      'must not contain ":", quotes or "\\" (it is on PATH and in ExecStart=)',
    )
    .default('/var/lib/xo')
    .describe('Releases, caches, secrets and the private Node runtime.'),
  extraServerEnv: z
    .record(
      z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name'),
      z.union([noNewline, secretFileRef]),
    )
    .default({})
    .describe(
      'Extra environment for xo-server (e.g. DEBUG, NODE_OPTIONS); a secret value as { file = "/abs/path" }, read at run time.',
    ),
  settings: z
    .record(z.string(), z.unknown())
    .superRefine((settings, ctx) => {
      for (const p of settingsSecretProblems(settings)) ctx.addIssue({ code: 'custom', ...p })
    })
    .default({})
    .describe(
      'Free-form xo-server config.toml settings merged last (LDAP, mail, plugins…); a secret leaf as { file = "/abs/path" }, read at run time.',
    ),
})

const source = z.strictObject({
  url: z.string().min(1).optional().describe('Git URL of Xen Orchestra; overrides the pin file.'),
  rev: z
    .string()
    .regex(/^[0-9a-f]{7,40}$/, 'must be a git commit id (7–40 hex digits)')
    .optional()
    .describe('Commit to build; overrides the pin file.'),
  pinFile: absPath
    .optional()
    .describe('Pin file (url, rev, version, date); defaults to the one shipped with xoa.'),
})

const build = z.strictObject({
  keep: z.int().min(1).max(50).default(3).describe('Releases kept besides current and previous.'),
  docs: z.boolean().default(false).describe('Also build the embedded docs (a second yarn install).'),
  jobs: z.int().min(1).max(64).optional().describe('Parallel build tasks; default from available memory.'),
  heapMb: z
    .int()
    .min(512)
    .max(65536)
    .optional()
    .describe('Node heap for the build; default from available memory.'),
  storeDir: absPath
    .optional()
    .describe(
      'Release store: releases, current/previous, Node runtimes, source mirror and build caches. Default: xo.stateDir. The container image sets it outside the state volume, so a newer image is never shadowed by an old volume.',
    ),
})

const service = z.strictObject({
  user: unixName.default('xo').describe('Service account running xo-server (no shell, no password).'),
  group: unixName.default('xo').describe("Service account's group."),
  uid: z
    .int()
    .min(1)
    .max(2147483646)
    .optional()
    .describe(
      'uid of service.user when xoa creates it (apply, or `xoa up`/`xoa build` as root); an existing account with another uid is an error. Default: the next free system uid.',
    ),
  gid: z
    .int()
    .min(1)
    .max(2147483646)
    .optional()
    .describe(
      'gid of service.group when xoa creates it, likewise checked. Default: the next free system gid.',
    ),
})

const sshKey = z
  .string()
  .regex(
    /^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) [A-Za-z0-9+/=]+( [^\n\r\0]*)?$/,
    'must be one OpenSSH public key line',
  )

const admin = z.strictObject({
  enable: z.boolean().default(true).describe('Create the SSH-only admin account.'),
  user: unixName.default('xoa').describe('SSH admin account (key only, sudo).'),
  authorizedKeys: z.array(sshKey).default([]).describe('Public keys allowed to log in as the admin.'),
  sshd: z.boolean().default(true).describe('Install the sshd drop-in: keys only, no root login.'),
})

const webAdmin = z.strictObject({
  email: z
    .string()
    .regex(/^[^\s@]+@[^\s@]+$/, 'must be an e-mail address')
    .refine((e) => e !== 'admin@admin.net', 'must not be the well-known default admin@admin.net')
    .default('admin@xoa.local')
    .describe('XO web admin created before the first start.'),
  passwordFile: absPath
    .optional()
    .describe('0600 file with the admin password; generated under stateDir/secrets when absent.'),
})

const redis = z.strictObject({
  socket: execDirPath.default('/run/redis-xo/redis.sock').describe('Unix socket of the dedicated Redis.'),
  dir: execDirPath.default('/var/lib/redis-xo').describe('Redis data directory (AOF).'),
  maxmemory: z
    .string()
    .regex(/^\d+(b|kb|mb|gb)?$/i, 'must be a size like 512mb or 0 (no limit)')
    .default('0')
    .describe('Redis maxmemory; eviction is always off.'),
})

const firewall = z.strictObject({
  enable: z.boolean().default(false).describe('Open the ports below (opt-in on Debian).'),
  ports: z
    .array(port)
    .default([80, 443, 3389, 5900, 8012])
    .describe('TCP ports to open (the seed: HTTP, HTTPS, RDP, VNC, 8012).'),
})

const mounts = z.strictObject({
  mode: z
    .enum(['broker', 'sudo', 'none'])
    .default('broker')
    .describe(
      'broker: least-privilege mount daemon; sudo: seed-compatible exact sudo rules; none: no mounts.',
    ),
  brokerSocket: absPath.default('/run/xoa-mountd/mountd.sock').describe('Mount broker socket.'),
  maxImageMounts: z
    .number()
    .int()
    .min(1)
    .max(256)
    .default(8)
    .describe('At most this many vhdimount FUSE servers (each a root process) at a time.'),
})

const updates = z.strictObject({
  channel: z.enum(['latest', 'stable', 'master']).default('latest').describe('Upstream channel to follow.'),
  schedule: calendar
    .optional()
    .describe('systemd OnCalendar expression for `xoa upgrade`; unset = no scheduled updates.'),
  keepBackups: z.int().min(1).max(100).default(5).describe('Backup archives kept.'),
})

export const SpecSchema = z
  .strictObject({
    xo: xo.prefault({}),
    source: source.prefault({}),
    build: build.prefault({}),
    service: service.prefault({}),
    admin: admin.prefault({}),
    webAdmin: webAdmin.prefault({}),
    redis: redis.prefault({}),
    firewall: firewall.prefault({}),
    mounts: mounts.prefault({}),
    updates: updates.prefault({}),
    xoState: xoStateSchema.prefault({}),
  })
  .superRefine((s, ctx) => {
    const issue = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: 'custom', path, message })
    if (s.xo.ssl.enable && s.xo.port === s.xo.httpsPort)
      issue(['xo', 'httpsPort'], `must differ from xo.port (${s.xo.port})`)
    if (s.service.user === s.admin.user && s.admin.enable)
      issue(['admin', 'user'], `must differ from service.user (${s.service.user})`)
    if (s.service.user === 'root' || s.service.group === 'root')
      issue(['service', 'user'], 'the service account must not be root')
    if (s.admin.user === 'root') issue(['admin', 'user'], 'must not be root')
    if (s.webAdmin.email in s.xoState.users)
      issue(
        ['xoState', 'users', s.webAdmin.email],
        'is the web admin (webAdmin.email), which xoa manages there',
      )
    const dirs = ['dataDir', 'tempDir', 'mountsDir'] as const
    for (const d of dirs) {
      for (const o of dirs) {
        if (d !== o && isInside(s.xo[d], s.xo[o]))
          issue(['xo', d], `must not be inside or equal to xo.${o} (${s.xo[o]})`)
      }
      // The service account owns these: never the state dir (root-owned code and secrets) or a part of it
      // xoa reserves, and nothing under system trees.
      if (isInside(s.xo.stateDir, s.xo[d]))
        issue(
          ['xo', d],
          `must not be or contain xo.stateDir (${s.xo.stateDir}): the service account would own it`,
        )
      const reserved = STATE_RESERVED.find((r) => isInside(s.xo[d], `${s.xo.stateDir}/${r}`))
      if (reserved) issue(['xo', d], `must not be inside ${s.xo.stateDir}/${reserved}, which xoa reserves`)
      const store = s.build.storeDir
      if (store && (isInside(store, s.xo[d]) || isInside(s.xo[d], store)))
        issue(
          ['xo', d],
          `must not be inside or contain build.storeDir (${store}): root-owned code lives there`,
        )
      const tree = SYSTEM_TREES.find((t) => isInside(s.xo[d], t))
      if (tree) issue(['xo', d], `must not be inside the system directory ${tree}`)
    }
    // apply chowns and chmods every directory below: none may be, or hold, a directory the system shares.
    const owned: [(string | number)[], string][] = [
      [['xo', 'stateDir'], s.xo.stateDir],
      ...dirs.map((d): [string[], string] => [['xo', d], s.xo[d]]),
      [['xo', 'ssl', 'dir'], s.xo.ssl.dir],
      [['redis', 'dir'], s.redis.dir],
      ...(s.build.storeDir ? [[['build', 'storeDir'], s.build.storeDir] as [string[], string]] : []),
    ]
    for (const [path, dir] of owned) {
      const sys = SYSTEM_DIRS.find((p) => isInside(p, dir))
      if (sys) issue(path, sys === dir ? 'must not be a system directory' : `must not be a parent of ${sys}`)
      else if (SHARED_DIRS.includes(dir))
        issue(path, 'must not be a directory the system shares (xoa changes its owner and mode)')
    }
    // Root creates, chowns and chmods the broker socket: never in a directory the service writes (the broker
    // checks the real owners when it starts).
    const socketDir = s.mounts.brokerSocket.slice(0, s.mounts.brokerSocket.lastIndexOf('/')) || '/'
    for (const d of dirs)
      if (isInside(socketDir, s.xo[d]))
        issue(
          ['mounts', 'brokerSocket'],
          `must not be inside xo.${d} (${s.xo[d]}): the service account writes there`,
        )
    if (PRIVILEGED_GROUPS.includes(s.service.group))
      issue(['service', 'group'], `must not be ${s.service.group}: membership grants privileges`)
    if (s.service.user === 'redis-xo' || s.service.group === 'redis-xo')
      issue(['service', 'user'], 'redis-xo is the account of the dedicated Redis')
    if (s.admin.enable && s.admin.user === 'redis-xo')
      issue(['admin', 'user'], 'redis-xo is the account of the dedicated Redis')
    if (s.xo.ssl.enable && s.xo.ssl.key === s.xo.ssl.cert)
      issue(['xo', 'ssl', 'cert'], 'must differ from xo.ssl.key')
    const seen = new Set<number>()
    s.firewall.ports.forEach((p, i) => {
      if (seen.has(p)) issue(['firewall', 'ports', i], `port ${p} is listed twice`)
      seen.add(p)
    })
  })

/** Directories apply must never own, nor own a parent of (that would hand them over too). */
const SYSTEM_DIRS = [
  '/bin',
  '/boot',
  '/dev',
  '/etc',
  '/home',
  '/lib',
  '/lib64',
  '/media',
  '/mnt',
  '/opt',
  '/proc',
  '/root',
  '/run',
  '/sbin',
  '/srv',
  '/sys',
  '/tmp',
  '/usr',
  '/var/cache',
  '/var/lib/apt',
  '/var/lib/dpkg',
  '/var/log',
  '/var/mail',
  '/var/spool',
  '/var/tmp',
]
/** Shared directories a spec might name by mistake; xoa's own dirs live below them. */
const SHARED_DIRS = [
  '/etc/ssl',
  '/etc/ssl/certs',
  '/etc/ssl/private',
  '/etc/ssh',
  '/etc/sudoers.d',
  '/etc/systemd',
  '/etc/systemd/system',
  '/etc/xoa',
  '/usr/local',
  '/var/lib/redis',
  '/var/lib/systemd',
  '/var/lib/private',
]
/** Nothing the service account writes belongs under these. */
const SYSTEM_TREES = ['/bin', '/boot', '/dev', '/etc', '/lib', '/lib64', '/proc', '/sbin', '/sys', '/usr']
/** Subdirectories of xo.stateDir that xoa manages (see statePaths). */
const STATE_RESERVED = [
  'releases',
  'runtimes',
  'cache',
  'secrets',
  'bin',
  'logs',
  'backups',
  'current',
  'previous',
]
const PRIVILEGED_GROUPS = [
  'root',
  'sudo',
  'wheel',
  'adm',
  'admin',
  'disk',
  'shadow',
  'systemd-journal',
  'docker',
  'lxd',
  'staff',
  'kvm',
]

/** Is `child` equal to or below `parent` (both absolute, normalised)? */
export function isInside(child: string, parent: string): boolean {
  return child === parent || child.startsWith(parent === '/' ? '/' : `${parent}/`)
}

export type Spec = z.output<typeof SpecSchema>
export type SpecInput = z.input<typeof SpecSchema>

/** The JSON Schema of the spec as a user writes it (defaults not required). */
export function specJsonSchema(): object {
  return z.toJSONSchema(SpecSchema, { io: 'input', unrepresentable: 'any' })
}
