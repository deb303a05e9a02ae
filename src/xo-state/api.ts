// What xoa asks of a running XO to reconcile its own state (docs/xo-state.md): the objects as XO reports them and
// the calls that change them. src/xo-state/client.ts implements it over XO's API (JSON-RPC through xo-lib, signed
// in over the pinned certificate); the reconcile engine works against this interface only, so it is tested purely.
// Field names follow XO's own objects (packages/xo-server/src/api/*.mjs and src/xo-mixins/*.mjs upstream).

/** A plugin as `plugin.get` lists it. XO obfuscates secrets in `configuration` (a fixed placeholder). */
export interface XoPlugin {
  id: string
  name: string
  loaded: boolean
  autoload: boolean
  configuration?: Record<string, unknown>
  /** The plugin's own JSON schema for its configuration, when it has one. */
  configurationSchema?: Record<string, unknown>
}

/** An XCP-ng pool master as `server.getAll` lists it; XO never returns the password. */
export interface XoServer {
  id: string
  label: string
  host: string
  username: string
  allowUnauthorized: boolean
  readOnly: boolean
  enabled: boolean
  /** "connected", "disconnected" or "connecting". */
  status?: string
  error?: unknown
}

export interface XoServerInput {
  label: string
  host: string
  username: string
  password: string
  allowUnauthorized: boolean
  readOnly: boolean
  /**
   * addServer only. false: stored disabled, never connected. Else (default) connected in the background as XO's
   * UI does (server.add's autoConnect): an unreachable pool is stored all the same, its error in `error`.
   */
  enabled?: boolean
}

/** A backup remote as `remote.getAll` lists it; XO obfuscates the password inside `url`. */
export interface XoRemote {
  id: string
  name: string
  url: string
  enabled: boolean
  options?: string
}

export interface XoRemoteInput {
  name: string
  url: string
  options?: string
}

export type XoPermission = 'none' | 'read' | 'write' | 'admin'

export interface XoUser {
  id: string
  email: string
  permission: XoPermission
  groups: string[]
}

export interface XoGroup {
  id: string
  name: string
  users: string[]
}

/** An ACL as `acl.get` lists it: subject (user or group id), object (any XO object id), action (a role id). */
export interface XoAcl {
  subject: string
  object: string
  action: string
}

export interface XoApi {
  plugins(): Promise<XoPlugin[]>
  configurePlugin(id: string, configuration: Record<string, unknown>): Promise<void>
  loadPlugin(id: string): Promise<void>
  unloadPlugin(id: string): Promise<void>
  setPluginAutoload(id: string, autoload: boolean): Promise<void>

  servers(): Promise<XoServer[]>
  addServer(server: XoServerInput): Promise<string>
  setServer(id: string, patch: Partial<XoServerInput>): Promise<void>
  enableServer(id: string): Promise<void>
  disableServer(id: string): Promise<void>
  removeServer(id: string): Promise<void>

  remotes(): Promise<XoRemote[]>
  createRemote(remote: XoRemoteInput): Promise<string>
  setRemote(id: string, patch: Partial<XoRemoteInput> & { enabled?: boolean }): Promise<void>
  removeRemote(id: string): Promise<void>

  users(): Promise<XoUser[]>
  createUser(user: { email: string; password: string; permission: XoPermission }): Promise<string>
  setUser(id: string, patch: { password?: string; permission?: XoPermission }): Promise<void>
  deleteUser(id: string): Promise<void>

  groups(): Promise<XoGroup[]>
  createGroup(name: string): Promise<string>
  deleteGroup(id: string): Promise<void>
  addUserToGroup(userId: string, groupId: string): Promise<void>
  removeUserFromGroup(userId: string, groupId: string): Promise<void>

  acls(): Promise<XoAcl[]>
  addAcl(acl: XoAcl): Promise<void>
  removeAcl(acl: XoAcl): Promise<void>

  /** XO's own configuration export (`xo.exportConfig`), saved before the first change of a run. */
  exportConfig(): Promise<Buffer>
  close(): Promise<void>
}
