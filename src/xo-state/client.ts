// XoApi over XO's JSON-RPC API (docs/xo-state.md, "What XO returns"). Method names, params and answers are
// upstream's (packages/xo-server/src/api/{plugin,server,remote,user,group,acl,xo}.mjs): XO validates params
// strictly (unknown ones are refused, strings must be non-empty), so each call sends only what its method takes.
import type { Spec } from '../spec/schema.ts'
import type {
  XoAcl,
  XoApi,
  XoGroup,
  XoPermission,
  XoPlugin,
  XoRemote,
  XoServer,
  XoServerInput,
  XoUser,
} from './api.ts'
import { openSession, type SessionOptions, type XoSession } from './connection.ts'

type Raw = Record<string, unknown>

const str = (v: unknown): string => (typeof v === 'string' ? v : '')
const list = (v: unknown): Raw[] => (Array.isArray(v) ? (v as Raw[]) : [])
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x) => typeof x === 'string') : [])
const obj = (v: unknown): Record<string, unknown> | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined

/** Only the keys whose value is defined: XO refuses `undefined` turned `null` where a string is expected. */
function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}

/** The id a create call answered: a string (server.add, user.create, group.create) or a record (remote.create). */
function idOf(method: string, r: unknown): string {
  const id = typeof r === 'string' ? r : obj(r)?.id
  if (typeof id !== 'string' || !id) throw new Error(`XO ${method} answered no id`)
  return id
}

export function plugin(p: Raw): XoPlugin {
  return {
    id: str(p.id),
    name: str(p.name),
    // `loaded` is unset until a first load; `autoload` comes from the stored metadata.
    loaded: p.loaded === true,
    autoload: p.autoload === true,
    configuration: obj(p.configuration),
    configurationSchema: obj(p.configurationSchema),
  }
}

export function server(s: Raw): XoServer {
  return {
    id: str(s.id),
    // XO shows the pool's name when a server has no label of its own.
    label: str(s.label),
    host: str(s.host),
    username: str(s.username),
    allowUnauthorized: s.allowUnauthorized === true,
    readOnly: s.readOnly === true,
    enabled: s.enabled === true,
    status: typeof s.status === 'string' ? s.status : undefined,
    ...(s.error !== undefined ? { error: s.error } : {}),
  }
}

export function remote(r: Raw): XoRemote {
  return {
    id: str(r.id),
    name: str(r.name),
    url: str(r.url),
    enabled: r.enabled === true,
    ...(typeof r.options === 'string' ? { options: r.options } : {}),
  }
}

export function user(u: Raw): XoUser {
  return {
    id: str(u.id),
    email: str(u.email),
    permission: (str(u.permission) || 'none') as XoPermission,
    groups: strings(u.groups),
  }
}

export function group(g: Raw): XoGroup {
  return { id: str(g.id), name: str(g.name), users: strings(g.users) }
}

export function acl(a: Raw): XoAcl {
  return { subject: str(a.subject), object: str(a.object), action: str(a.action) }
}

/** The XoApi calls on an open session. */
export function xoApiOn(session: XoSession): XoApi {
  const call = session.call
  const done = async (method: string, params: object) => {
    await call(method, params)
  }
  return {
    plugins: async () => list(await call('plugin.get')).map(plugin),
    configurePlugin: (id, configuration) => done('plugin.configure', { id, configuration }),
    loadPlugin: (id) => done('plugin.load', { id }),
    unloadPlugin: (id) => done('plugin.unload', { id }),
    setPluginAutoload: (id, autoload) =>
      done(autoload ? 'plugin.enableAutoload' : 'plugin.disableAutoload', { id }),

    servers: async () => list(await call('server.getAll')).map(server),
    async addServer(s: XoServerInput) {
      // server.add takes no readOnly (server.set does) and, left to itself, starts connecting at once; the
      // connection's own writes to the record would race a server.set sent meanwhile. So: add unconnected, set,
      // then disable it or start the connection in the background (its outcome lands in `error`, as with the
      // UI's autoConnect; server.enable is not awaited: it waits for the pool and fails when it is unreachable).
      const { readOnly, enabled, ...add } = s
      const id = idOf('server.add', await call('server.add', { ...defined(add), autoConnect: false }))
      if (readOnly) await call('server.set', { id, readOnly })
      if (enabled === false) await call('server.disable', { id })
      else call('server.enable', { id }).catch(() => {})
      return id
    },
    setServer: (id, patch) => {
      const { enabled: _, ...set } = patch
      return done('server.set', { id, ...defined(set) })
    },
    enableServer: (id) => done('server.enable', { id }),
    disableServer: (id) => done('server.disable', { id }),
    removeServer: (id) => done('server.remove', { id }),

    remotes: async () => list(await call('remote.getAll')).map(remote),
    // remote.create answers the whole record (its URL in clear): only the id is kept.
    createRemote: async (r) => idOf('remote.create', await call('remote.create', defined(r))),
    setRemote: (id, patch) => done('remote.set', { id, ...defined(patch) }),
    removeRemote: (id) => done('remote.delete', { id }),

    users: async () => list(await call('user.getAll')).map(user),
    createUser: async (u) => idOf('user.create', await call('user.create', u)),
    setUser: (id, patch) => done('user.set', { id, ...defined(patch) }),
    deleteUser: (id) => done('user.delete', { id }),

    groups: async () => list(await call('group.getAll')).map(group),
    createGroup: async (name) => idOf('group.create', await call('group.create', { name })),
    deleteGroup: (id) => done('group.delete', { id }),
    addUserToGroup: (userId, groupId) => done('group.addUser', { id: groupId, userId }),
    removeUserFromGroup: (userId, groupId) => done('group.removeUser', { id: groupId, userId }),

    acls: async () => list(await call('acl.get')).map(acl),
    addAcl: (a) => done('acl.add', { subject: a.subject, object: a.object, action: a.action }),
    removeAcl: (a) => done('acl.remove', { subject: a.subject, object: a.object, action: a.action }),

    async exportConfig() {
      // Uncompressed, unencrypted JSON: readable and what xo.importConfig takes back. It holds every secret XO
      // stores (server passwords, remote URLs, plugin configurations, password hashes) in clear.
      const r = obj(await call('xo.exportConfig', { compress: false }))
      const from = r?.$getFrom
      if (typeof from !== 'string') throw new Error('XO xo.exportConfig answered no $getFrom')
      return session.download(from)
    },
    close: () => session.close(),
  }
}

/** Signed in to the local xo-server as `admin`, over the certificate xoa installed (pinned). */
export async function openXoApi(
  spec: Spec,
  admin: { email: string; password: string },
  opts: SessionOptions = {},
): Promise<XoApi> {
  return xoApiOn(await openSession(spec, admin, opts))
}
