// The `xoState` section: what xoa keeps in XO's own database (plugins, pools, remotes, users, groups, ACLs),
// reconciled through XO's API once xo-server is healthy (docs/xo-state.md). Secrets are files: a typed field
// `…File`, or `{ file = "/abs" }` inside a plugin configuration (src/spec/secret-file.ts, the one way).
import { z } from 'zod'
import { isSecretFileRef, secretFileRef } from './secret-file.ts'

/** The same rules as `{ file = … }`: absolute, no "..", no NUL or newline. */
const secretPath = secretFileRef.shape.file
const text = z
  .string()
  .min(1)
  .refine((s) => !/[\0\n\r]/.test(s), 'must not contain NUL or newlines')
const hostName = z
  .string()
  .regex(
    /^(\[[0-9A-Fa-f:.]+\]|[0-9A-Za-z._-]+)(:\d{1,5})?$/,
    'must be a host name or address, optionally :port',
  )
const email = z.string().regex(/^[^\s@]+@[^\s@]+$/, 'must be an e-mail address')
/** Keys that hold a secret (XO obfuscates most of them, not all: auth-oidc's clientSecret comes back in
 *  clear): their value must come from a file. */
export const SECRET_KEY = /(pass(word|phrase)?|secret|token|encryptionKey)$/i

const plugin = z.strictObject({
  enable: z
    .boolean()
    .optional()
    .describe(
      'true: loaded now and at every start (autoload); false: unloaded, no autoload; unset: as it is.',
    ),
  configuration: z
    .record(z.string(), z.unknown())
    .optional()
    .describe(
      "The plugin's configuration, checked against the schema the running XO reports for it. Secrets as " +
        '{ file = "/abs/path" }; a key named like a secret (…password, …secret, …token) must be one.',
    ),
})

const server = z.strictObject({
  host: hostName.describe('Pool master address (host or host:port).'),
  username: text.default('root').describe('XAPI user.'),
  passwordFile: secretPath.describe('File holding the XAPI password (root, mode 600).'),
  allowUnauthorized: z.boolean().default(false).describe("Accept the pool's self-signed certificate."),
  readOnly: z.boolean().default(false).describe('Connect read-only.'),
  enabled: z.boolean().default(true).describe('Connected (true) or kept but disconnected (false).'),
})

const remoteCommon = {
  enabled: z
    .boolean()
    .default(true)
    .describe('Enabled remotes are mounted and tested by XO; a failure is an error.'),
}
const mountOptions = z
  .string()
  .regex(/^[A-Za-z0-9_.,=:/-]*$/, 'must be comma-separated mount options (letters, digits and _ . , = : / -)')
  .optional()
  .describe('Extra mount options (through the mount broker, which checks them against its allowlist).')

const remote = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('file'),
    path: secretPath.describe('Local directory (absolute).'),
    ...remoteCommon,
  }),
  z.strictObject({
    type: z.literal('nfs'),
    host: hostName.describe('NFS server.'),
    port: z.int().min(1).max(65535).optional().describe('NFS port (default: from rpcbind).'),
    path: secretPath.describe('Exported path.'),
    options: mountOptions,
    ...remoteCommon,
  }),
  z.strictObject({
    type: z.literal('smb'),
    host: hostName.describe('SMB server.'),
    share: z
      .string()
      .regex(/^[^\\/\0\n\r]+(\/[^\\/\0\n\r]+)*$/, 'must be SHARE or SHARE/sub/dir (no backslashes)')
      .describe('Share, optionally with a subdirectory: "backups" or "backups/xo".'),
    domain: text.default('WORKGROUP').describe('SMB domain.'),
    username: text.describe('SMB user.'),
    passwordFile: secretPath.describe('File holding the SMB password (root, mode 600).'),
    options: mountOptions,
    ...remoteCommon,
  }),
  z.strictObject({
    type: z.literal('s3'),
    host: hostName.describe('S3 endpoint (host or host:port).'),
    bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,62}$/, 'must be an S3 bucket name'),
    path: z
      .string()
      .regex(/^[^\0\n\r\\]*$/, 'must not contain backslashes, NUL or newlines')
      .default('')
      .describe('Directory inside the bucket.'),
    region: text.optional().describe('Region, when the endpoint needs one.'),
    accessKeyId: text.describe('Access key id.'),
    secretAccessKeyFile: secretPath.describe('File holding the secret access key (root, mode 600).'),
    https: z.boolean().default(true).describe('Talk HTTPS to the endpoint.'),
    allowUnauthorized: z.boolean().default(false).describe("Accept the endpoint's self-signed certificate."),
    ...remoteCommon,
  }),
])

const user = z
  .strictObject({
    permission: z
      .enum(['none', 'read', 'write', 'admin'])
      .default('none')
      .describe('XO permission; finer rights come from acls.'),
    passwordFile: secretPath
      .optional()
      .describe('File holding the password (root, mode 600). Required unless sso = true.'),
    sso: z
      .boolean()
      .default(false)
      .describe(
        'Signs in through an auth plugin (LDAP, SAML, OIDC): never pre-created (that breaks the sign-in); ' +
          'its permission and groups are reconciled once XO created it at the first sign-in.',
      ),
  })
  .superRefine((u, ctx) => {
    if (u.sso && u.passwordFile)
      ctx.addIssue({ code: 'custom', path: ['passwordFile'], message: 'an SSO user has no local password' })
    if (!u.sso && !u.passwordFile)
      ctx.addIssue({ code: 'custom', path: ['passwordFile'], message: 'required (or sso = true)' })
  })

const group = z.strictObject({
  members: z
    .array(email)
    .default([])
    .describe('E-mails of its users (declared here or existing in XO); the membership is exactly this list.'),
})

const acl = z.strictObject({
  subject: text.describe(
    'A user e-mail, a group name (declared here or existing in XO), or an XO user/group id.',
  ),
  object: text.describe('The XO id of the object (pool, host, SR, VM, network…).'),
  action: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'must be an XO role id')
    .describe('The role: viewer, operator or admin (or the id of a role XO knows).'),
})

export const xoStateSchema = z
  .strictObject({
    plugins: z
      .record(z.string().regex(/^[@a-z0-9][a-z0-9@/._-]*$/, 'must be an XO plugin name'), plugin)
      .default({})
      .describe('Plugins by name (auth-ldap, auth-saml, auth-oidc, transport-email, backup-reports…).'),
    servers: z.record(text, server).default({}).describe('XCP-ng pool masters by label.'),
    remotes: z.record(text, remote).default({}).describe('Backup remotes by name.'),
    users: z.record(email, user).default({}).describe('Users by e-mail.'),
    groups: z.record(text, group).default({}).describe('Groups by name.'),
    acls: z.array(acl).default([]).describe('Rights: subject may act as action on object (XO acl.add).'),
  })
  .superRefine((s, ctx) => {
    for (const [name, p] of Object.entries(s.plugins))
      for (const [path, message] of secretProblems(p.configuration ?? {}))
        ctx.addIssue({ code: 'custom', path: ['plugins', name, 'configuration', ...path], message })
    const seen = new Set<string>()
    s.acls.forEach((a, i) => {
      const key = `${a.subject}\0${a.object}\0${a.action}`
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['acls', i], message: 'listed twice' })
      seen.add(key)
      if (a.subject in s.users && a.subject in s.groups)
        ctx.addIssue({
          code: 'custom',
          path: ['acls', i, 'subject'],
          message: 'names both a user and a group',
        })
    })
  })

/** Strings under secret-looking keys, and `{ file = … }` references that are not valid ones (walked deep). */
function secretProblems(v: unknown, path: (string | number)[] = []): [(string | number)[], string][] {
  if (isSecretFileRef(v)) return []
  if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1 && 'file' in v)
    return [[path, 'must be { file = "/abs/path" }: an absolute path without ".."']]
  if (Array.isArray(v)) return v.flatMap((x, i) => secretProblems(x, [...path, i]))
  if (v && typeof v === 'object')
    return Object.entries(v).flatMap(([k, x]): [(string | number)[], string][] =>
      typeof x === 'string' && SECRET_KEY.test(k)
        ? [[[...path, k], 'a secret is never inline: give it as { file = "/abs/path" }']]
        : secretProblems(x, [...path, k]),
    )
  return []
}

export type XoStateSpec = z.output<typeof xoStateSchema>
export type RemoteSpec = XoStateSpec['remotes'][string]
