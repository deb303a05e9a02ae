// Carrying out an XO-state plan through the XoApi, in the plan's order. Secrets are read from their files here,
// at run time, and go only to XO. The record is saved after every step, so a step that fails (it stops the run,
// naming the object and XO's own message) leaves a record that still knows what xoa made before it.
import type { XoStateSpec } from '../spec/xo-state.ts'
import { XoaError } from '../util/errors.ts'
import type { XoAcl, XoApi } from './api.ts'
import type { Observed, XoChange } from './change.ts'
import { resolveSubject } from './diff.ts'
import { digest } from './digest.ts'
import { type ReadSecret, resolveSecretRefs } from './plugin-config.ts'
import type { XoStateRecord } from './record.ts'
import { remoteSecretFile, remoteUrl } from './remote-url.ts'

export interface ApplyInput {
  api: XoApi
  state: XoStateSpec
  observed: Observed
  record: XoStateRecord
  readSecret: ReadSecret
  changes: XoChange[]
  forget: string[]
  /** Called once, before the first change XO sees (saves XO's config export). */
  beforeFirstChange(): Promise<void>
  saveRecord(r: XoStateRecord): Promise<void>
  onChange?(c: XoChange): void
}

/** Server fields XO will not change on a connected pool (xo-server's server.set). */
const CONNECTION_FIELDS = ['host', 'username', 'password', 'allowUnauthorized']

export async function applyXoState(input: ApplyInput): Promise<XoChange[]> {
  const { api, state, record } = input
  const salt = record.salt
  // Every secret read in this run, so none can reach a message even if XO's error text echoes a parameter.
  const secrets = new Set<string>()
  const readSecret: ReadSecret = (path, field) => {
    const v = input.readSecret(path, field)
    secrets.add(v)
    return v
  }
  let started = false
  // Ids of what exists or gets made in this run, for group members and ACL subjects.
  const users = new Map(input.observed.users.map((u) => [u.email, u.id]))
  const groups = new Map(input.observed.groups.map((g) => [g.name, g.id]))
  if (input.forget.length) {
    for (const id of input.forget) delete record.objects[id]
    await input.saveRecord(record)
  }
  for (const c of input.changes) {
    if (c.action === 'ok' || c.action === 'skip') {
      input.onChange?.(c)
      continue
    }
    if (!started) {
      await input.beforeFirstChange()
      started = true
    }
    try {
      await step(c)
    } catch (e) {
      await input.saveRecord(record)
      if (e instanceof XoaError) throw e
      throw new XoaError(`${c.id}: XO refused to ${c.action} it: ${redact(xoMessage(e), secrets)}`, {
        hint: 'fix the spec (or XO), then run `xoa state apply` again; what was done so far is recorded',
      })
    }
    await input.saveRecord(record)
    input.onChange?.(c)
  }
  return input.changes

  async function step(c: XoChange): Promise<void> {
    const own = (id: string, sent?: string, reported?: string, acl?: XoAcl) => {
      const mine = record.objects[c.id]
      const created = c.action === 'create' || (mine?.id === id && mine.created)
      record.objects[c.id] = { id, created, sent, reported, acl }
    }
    const xoId = c.plan?.xoId as string
    switch (c.kind) {
      case 'plugin': {
        const p = state.plugins[c.name]
        const plan = c.plan ?? {}
        if (plan.configure && p?.configuration) {
          const resolved = resolveSecretRefs(
            p.configuration,
            readSecret,
            `xoState.plugins.${c.name}.configuration`,
          )
          await api.configurePlugin(xoId, resolved as Record<string, unknown>)
          const after = (await api.plugins()).find((x) => x.id === xoId)
          own(xoId, digest(salt, resolved), digest(salt, after?.configuration ?? {}))
        }
        if (plan.load === true) await api.loadPlugin(xoId)
        if (plan.load === false) await api.unloadPlugin(xoId)
        if (plan.autoload !== undefined) await api.setPluginAutoload(xoId, plan.autoload)
        return
      }
      case 'server': {
        if (c.action === 'delete') {
          await api.removeServer(xoId)
          delete record.objects[c.id]
          return
        }
        const s = state.servers[c.name]
        if (!s) return
        const password = readSecret(s.passwordFile, `xoState.servers.${c.name}.passwordFile`)
        const input_ = {
          label: c.name,
          host: s.host,
          username: s.username,
          password,
          allowUnauthorized: s.allowUnauthorized,
          readOnly: s.readOnly,
        }
        let id = xoId
        if (c.action === 'create') {
          // Declared disabled: stored so, never connected even once.
          id = await api.addServer({ ...input_, enabled: s.enabled })
          own(id, digest(salt, password))
          const made = (await api.servers()).find((x) => x.id === id)
          if (made && made.enabled !== s.enabled)
            await (s.enabled ? api.enableServer(id) : api.disableServer(id))
          return
        }
        const fields = c.plan?.fields ?? []
        // XO refuses to change these while the pool is connected or connecting: disconnect, set, reconnect.
        const seen = input.observed.servers.find((x) => x.id === id)
        const live = seen?.status === 'connected' || seen?.status === 'connecting'
        const reconnect = live && fields.some((f) => CONNECTION_FIELDS.includes(f))
        if (reconnect) await api.disableServer(id)
        if (fields.length)
          await api.setServer(
            id,
            Object.fromEntries(fields.map((f) => [f, input_[f as keyof typeof input_]])),
          )
        own(id, digest(salt, password))
        const enable = c.plan?.enabled ?? (reconnect ? s.enabled : undefined)
        // Disabled already when it was disconnected for the change (a second disable is refused).
        if (enable === true) await api.enableServer(id)
        if (enable === false && !reconnect) await api.disableServer(id)
        return
      }
      case 'remote': {
        if (c.action === 'delete') {
          await api.removeRemote(xoId)
          delete record.objects[c.id]
          return
        }
        const r = state.remotes[c.name]
        if (!r) return
        const sf = remoteSecretFile(r)
        const url = remoteUrl(r, sf ? readSecret(sf.file, `xoState.remotes.${c.name}.${sf.key}`) : '')
        const options = 'options' in r && r.options ? r.options : undefined
        const sent = sf ? digest(salt, url) : undefined
        const reported = async (id: string) => {
          const x = (await api.remotes()).find((q) => q.id === id)
          return { x, digest: sf && x ? digest(salt, x.url) : undefined }
        }
        if (c.action === 'create') {
          const id = await api.createRemote({ name: c.name, url, ...(options ? { options } : {}) })
          own(id, sent)
          const after = await reported(id)
          own(id, sent, after.digest)
          if (after.x && after.x.enabled !== r.enabled) await api.setRemote(id, { enabled: r.enabled })
          return
        }
        const fields = c.plan?.fields ?? []
        const patch: Parameters<XoApi['setRemote']>[1] = {}
        if (fields.includes('url')) patch.url = url
        if (fields.includes('options')) patch.options = options ?? ''
        if (c.plan?.enabled !== undefined) patch.enabled = c.plan.enabled
        await api.setRemote(xoId, patch)
        own(xoId, sent, (await reported(xoId)).digest)
        return
      }
      case 'user': {
        if (c.action === 'delete') {
          await api.deleteUser(xoId)
          delete record.objects[c.id]
          return
        }
        const u = state.users[c.name]
        if (!u) return
        if (u.sso) {
          await api.setUser(xoId, { permission: u.permission })
          return
        }
        const password = readSecret(u.passwordFile as string, `xoState.users.${c.name}.passwordFile`)
        if (c.action === 'create') {
          const id = await api.createUser({ email: c.name, password, permission: u.permission })
          users.set(c.name, id)
          own(id, digest(salt, password))
          return
        }
        const fields = c.plan?.fields ?? []
        await api.setUser(xoId, {
          ...(fields.includes('permission') ? { permission: u.permission } : {}),
          ...(fields.includes('password') ? { password } : {}),
        })
        own(xoId, digest(salt, password))
        return
      }
      case 'group': {
        if (c.action === 'delete') {
          await api.deleteGroup(xoId)
          delete record.objects[c.id]
          return
        }
        let id = xoId
        if (c.action === 'create') {
          id = await api.createGroup(c.name)
          groups.set(c.name, id)
          own(id)
        }
        for (const email of c.plan?.addMembers ?? []) await api.addUserToGroup(userId(email), id)
        for (const email of c.plan?.removeMembers ?? []) await api.removeUserFromGroup(userId(email), id)
        return
      }
      case 'acl': {
        if (c.action === 'delete') {
          if (c.plan?.acl) await api.removeAcl(c.plan.acl)
          delete record.objects[c.id]
          return
        }
        const a = c.plan?.acl ?? aclOf(c)
        await api.addAcl(a)
        own(`${a.subject}/${a.object}/${a.action}`, undefined, undefined, a)
        return
      }
    }
  }

  function userId(emailOrId: string): string {
    return users.get(emailOrId) ?? emailOrId
  }

  /** An ACL whose subject is made in this run: its id is known now. */
  function aclOf(c: XoChange): XoAcl {
    const a = state.acls.find((x) => `${x.subject} ${x.action} on ${x.object}` === c.name)
    if (!a) throw new XoaError(`${c.id}: not in the spec any more`)
    const known = {
      users: [...users].map(([email, id]) => ({ id, email, permission: 'none' as const, groups: [] })),
      groups: [...groups].map(([name, id]) => ({ id, name, users: [] })),
    }
    const subject = resolveSubject(a.subject, state, known)
    if (!subject || subject === 'pending' || subject === 'sso-waiting')
      throw new XoaError(`${c.id}: its subject ${a.subject} was not made`)
    return { subject, object: a.object, action: a.action }
  }
}

/** XO's own error text (JSON-RPC errors carry it in message and data), never a stack. */
export function xoMessage(e: unknown): string {
  const err = e as { message?: string; data?: unknown }
  const data =
    err?.data !== undefined ? ` (${typeof err.data === 'string' ? err.data : JSON.stringify(err.data)})` : ''
  return `${err?.message ?? String(e)}${data}`
}

/** `text` with every secret replaced (longest first, so one that contains another goes whole). */
export function redact(text: string, secrets: Iterable<string>): string {
  let out = text
  for (const s of [...secrets].sort((a, b) => b.length - a.length))
    if (s.length >= 1) {
      out = out.split(s).join('***')
      const enc = encodeURIComponent(s)
      if (enc !== s) out = out.split(enc).join('***')
    }
  return out
}
