// An in-memory XoApi for the engine's tests: it records every call and behaves as XO does where it matters to
// a diff: server and user passwords are never returned, secrets in plugin configurations and remote URLs come
// back obfuscated (xo-server replaces them with a fixed placeholder), ids are XO's to choose.
import type {
  XoAcl,
  XoApi,
  XoGroup,
  XoPermission,
  XoPlugin,
  XoRemote,
  XoServer,
  XoServerInput,
} from '../../src/xo-state/api.ts'

export const OBFUSCATED = 'obfuscated-q3oi6d9X8uenGvdLnHk2'
const SECRET = /pass(word)?$|secret$|token$/i

function obfuscate(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(obfuscate)
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => [
        k,
        typeof x === 'string' && SECRET.test(k) ? OBFUSCATED : obfuscate(x),
      ]),
    )
  return v
}

/** smb://user:PASSWORD@… and s3://key:SECRET@…: the part between ":" and "@" after the scheme's user. */
function obfuscateUrl(url: string): string {
  return url.replace(/^((?:smb|s3|s3\+http):\/\/[^:]*:)[^@]*@/, `$1${OBFUSCATED}@`)
}

export interface Call {
  method: string
  args: unknown[]
}

export class FakeXo implements XoApi {
  calls: Call[] = []
  plugins_: (XoPlugin & { configuration?: Record<string, unknown> })[] = []
  servers_: (XoServer & { password: string })[] = []
  remotes_: XoRemote[] = []
  users_: { id: string; email: string; permission: XoPermission; password: string }[] = []
  groups_: XoGroup[] = []
  acls_: XoAcl[] = []
  /** Method name → error to throw (once per call) instead of doing it. */
  fail: Record<string, Error> = {}
  private n = 0

  constructor(plugins: XoPlugin[] = []) {
    this.plugins_ = plugins.map((p) => ({ ...p }))
  }

  private id(prefix: string) {
    return `${prefix}-${(++this.n).toString(16).padStart(8, '0')}`
  }

  private log(method: string, ...args: unknown[]) {
    this.calls.push({ method, args: structuredClone(args) })
    const e = this.fail[method]
    if (e) throw e
  }

  changes(): Call[] {
    return this.calls.filter(
      (c) => !['plugins', 'servers', 'remotes', 'users', 'groups', 'acls', 'close'].includes(c.method),
    )
  }

  async plugins() {
    this.log('plugins')
    return this.plugins_.map((p) => ({
      ...p,
      configuration: obfuscate(p.configuration) as Record<string, unknown>,
    }))
  }
  async configurePlugin(id: string, configuration: Record<string, unknown>) {
    this.log('configurePlugin', id, configuration)
    const p = this.plugins_.find((x) => x.id === id)
    if (!p) throw new Error('no such object')
    p.configuration = structuredClone(configuration)
  }
  async loadPlugin(id: string) {
    this.log('loadPlugin', id)
    const p = this.plugins_.find((x) => x.id === id)
    if (p) p.loaded = true
  }
  async unloadPlugin(id: string) {
    this.log('unloadPlugin', id)
    const p = this.plugins_.find((x) => x.id === id)
    if (p) p.loaded = false
  }
  async setPluginAutoload(id: string, autoload: boolean) {
    this.log('setPluginAutoload', id, autoload)
    const p = this.plugins_.find((x) => x.id === id)
    if (p) p.autoload = autoload
  }

  async servers() {
    this.log('servers')
    return this.servers_.map(({ password: _, ...s }) => ({ ...s }))
  }
  async addServer(s: XoServerInput) {
    this.log('addServer', s)
    const id = this.id('srv')
    // As the client adds: enabled unless told otherwise (then connected in the background; disconnected when
    // unreachable); `enabled: false` stores it disabled.
    const { enabled, ...rest } = s
    this.servers_.push({ ...rest, id, enabled: enabled !== false, status: 'disconnected' })
    return id
  }
  async setServer(id: string, patch: Partial<XoServerInput>) {
    this.log('setServer', id, patch)
    const s = this.mustServer(id)
    const live = s.status === 'connected' || s.status === 'connecting'
    if (live && ['host', 'username', 'password', 'allowUnauthorized'].some((k) => k in patch))
      throw new Error('this entry require disconnecting the server to update it')
    Object.assign(s, patch)
  }
  /** Pools this fake can reach: enabling one connects it. */
  reachable = new Set<string>()
  async enableServer(id: string) {
    this.log('enableServer', id)
    const s = this.mustServer(id)
    s.enabled = true
    s.status = this.reachable.has(s.host) ? 'connected' : 'disconnected'
  }
  async disableServer(id: string) {
    this.log('disableServer', id)
    const s = this.mustServer(id)
    if (!s.enabled && s.status === 'disconnected') throw new Error('incorrect state')
    s.enabled = false
    s.status = 'disconnected'
  }
  async removeServer(id: string) {
    this.log('removeServer', id)
    this.servers_ = this.servers_.filter((s) => s.id !== id)
  }
  private mustServer(id: string) {
    const s = this.servers_.find((x) => x.id === id)
    if (!s) throw new Error('no such object')
    return s
  }

  async remotes() {
    this.log('remotes')
    return this.remotes_.map((r) => ({ ...r, url: obfuscateUrl(r.url) }))
  }
  async createRemote(r: { name: string; url: string; options?: string }) {
    this.log('createRemote', r)
    const id = this.id('rmt')
    // remote.create stores it enabled (xo-server); a disabled one is a remote.set after.
    this.remotes_.push({
      id,
      name: r.name,
      url: r.url,
      enabled: true,
      ...(r.options ? { options: r.options } : {}),
    })
    return id
  }
  async setRemote(id: string, patch: { name?: string; url?: string; options?: string; enabled?: boolean }) {
    this.log('setRemote', id, patch)
    const r = this.remotes_.find((x) => x.id === id)
    if (!r) throw new Error('no such object')
    Object.assign(r, patch)
  }
  async removeRemote(id: string) {
    this.log('removeRemote', id)
    this.remotes_ = this.remotes_.filter((r) => r.id !== id)
  }

  async users() {
    this.log('users')
    return this.users_.map((u) => ({
      id: u.id,
      email: u.email,
      permission: u.permission,
      groups: this.groups_.filter((g) => g.users.includes(u.id)).map((g) => g.id),
    }))
  }
  async createUser(u: { email: string; password: string; permission: XoPermission }) {
    this.log('createUser', u)
    if (this.users_.some((x) => x.email === u.email)) throw new Error('this email is already used')
    const id = this.id('usr')
    this.users_.push({ id, ...u })
    return id
  }
  async setUser(id: string, patch: { password?: string; permission?: XoPermission }) {
    this.log('setUser', id, patch)
    const u = this.users_.find((x) => x.id === id)
    if (!u) throw new Error('no such object')
    Object.assign(u, patch)
  }
  async deleteUser(id: string) {
    this.log('deleteUser', id)
    this.users_ = this.users_.filter((u) => u.id !== id)
    for (const g of this.groups_) g.users = g.users.filter((u) => u !== id)
    this.acls_ = this.acls_.filter((a) => a.subject !== id)
  }

  async groups() {
    this.log('groups')
    return this.groups_.map((g) => ({ ...g, users: [...g.users] }))
  }
  async createGroup(name: string) {
    this.log('createGroup', name)
    const id = this.id('grp')
    this.groups_.push({ id, name, users: [] })
    return id
  }
  async deleteGroup(id: string) {
    this.log('deleteGroup', id)
    this.groups_ = this.groups_.filter((g) => g.id !== id)
    this.acls_ = this.acls_.filter((a) => a.subject !== id)
  }
  async addUserToGroup(userId: string, groupId: string) {
    this.log('addUserToGroup', userId, groupId)
    const g = this.groups_.find((x) => x.id === groupId)
    if (!g || !this.users_.some((u) => u.id === userId)) throw new Error('no such object')
    if (!g.users.includes(userId)) g.users.push(userId)
  }
  async removeUserFromGroup(userId: string, groupId: string) {
    this.log('removeUserFromGroup', userId, groupId)
    const g = this.groups_.find((x) => x.id === groupId)
    if (g) g.users = g.users.filter((u) => u !== userId)
  }

  async acls() {
    this.log('acls')
    return this.acls_.map((a) => ({ ...a }))
  }
  async addAcl(a: XoAcl) {
    this.log('addAcl', a)
    this.acls_.push({ ...a })
  }
  async removeAcl(a: XoAcl) {
    this.log('removeAcl', a)
    this.acls_ = this.acls_.filter(
      (x) => !(x.subject === a.subject && x.object === a.object && x.action === a.action),
    )
  }

  async exportConfig() {
    this.log('exportConfig')
    return Buffer.from(JSON.stringify({ servers: this.servers_, remotes: this.remotes_, users: this.users_ }))
  }
  async close() {
    this.log('close')
  }
}

/** The plugins a fresh XO lists, with the schemas that matter to these tests. */
export function stockPlugins(): XoPlugin[] {
  return [
    {
      id: 'auth-ldap',
      name: 'auth-ldap',
      loaded: false,
      autoload: false,
      configurationSchema: {
        type: 'object',
        properties: {
          uri: { type: 'string' },
          base: { type: 'string' },
          bind: {
            type: 'object',
            properties: { dn: { type: 'string' }, password: { type: 'string' } },
            required: ['dn', 'password'],
          },
          checkCertificate: { type: 'boolean', default: true },
        },
        required: ['uri', 'base'],
      },
    },
    {
      id: 'transport-email',
      name: 'transport-email',
      loaded: false,
      autoload: false,
      configurationSchema: {
        type: 'object',
        properties: {
          from: { type: 'object', properties: { address: { type: 'string' } } },
          transport: {
            type: 'object',
            properties: { host: { type: 'string' }, port: { type: 'integer', minimum: 1, maximum: 65535 } },
            required: ['host'],
          },
        },
        required: ['transport'],
      },
    },
    { id: 'backup-reports', name: 'backup-reports', loaded: true, autoload: true },
  ]
}
