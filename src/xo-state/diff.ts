// Spec vs XO, per object: + create, ~ change (saying what), - delete (only what xoa created), = unchanged,
// ! skipped (saying why). Pure: the spec, XO's state as read, the ownership record and a way to read secret
// files in; the same inputs give the same plan, so `xoa state plan` and `xoa state apply` never disagree.
// Secrets never reach a detail: a secret that changed is named by its field only.
import type { XoStateSpec } from '../spec/xo-state.ts'
import { UsageError } from '../util/errors.ts'
import type { XoAcl } from './api.ts'
import type { Observed, XoAction, XoChange, XoDiff, XoKind } from './change.ts'
import { digest } from './digest.ts'
import {
  assertConfiguration,
  containedIn,
  hasSecretRefs,
  type ReadSecret,
  resolveSecretRefs,
} from './plugin-config.ts'
import type { XoStateRecord } from './record.ts'
import { remoteSecretFile, remoteUrl, remoteUrlShown } from './remote-url.ts'

export interface DiffInput {
  state: XoStateSpec
  observed: Observed
  record: XoStateRecord
  readSecret: ReadSecret
}

const KIND_ORDER: XoKind[] = ['plugin', 'server', 'remote', 'user', 'group', 'acl']

export function diffXoState(input: DiffInput): XoDiff {
  const { state, observed: o, record } = input
  const salt = record.salt
  const owned = (id: string) => record.objects[id]
  const changes: XoChange[] = []
  const forget: string[] = []
  const add = (
    kind: XoKind,
    name: string,
    action: XoAction,
    details: string[] = [],
    plan?: XoChange['plan'],
  ) => changes.push({ id: `${kind}:${name}`, kind, name, action, details, plan })

  for (const [name, p] of Object.entries(state.plugins)) {
    const field = `xoState.plugins.${name}`
    const x = o.plugins.find((q) => q.name === name || q.id === name)
    if (!x)
      throw new UsageError(
        `${field}: XO has no plugin named ${name} (it has: ${o.plugins.map((q) => q.name).join(', ') || 'none'})`,
      )
    const d: string[] = []
    const plan: XoChange['plan'] = { xoId: x.id }
    if (p.configuration) {
      const resolved = resolveSecretRefs(p.configuration, input.readSecret, `${field}.configuration`)
      assertConfiguration(x.configurationSchema, resolved, `${field}.configuration`)
      const mine = owned(`plugin:${name}`)
      const reported = digest(salt, x.configuration ?? {})
      const plain = Object.keys(p.configuration).filter(
        (k) =>
          !hasSecretRefs(p.configuration?.[k]) && !containedIn(p.configuration?.[k], x.configuration?.[k]),
      )
      if (mine?.sent && mine.id === x.id) {
        if (mine.sent !== digest(salt, resolved))
          d.push(plain.length ? `configuration: ${plain.join(', ')}` : 'configuration (a secret changed)')
        else if (mine.reported !== reported) d.push('configuration (changed in XO since xoa set it)')
      } else if (plain.length) d.push(`configuration: ${plain.join(', ')}`)
      else if (hasSecretRefs(p.configuration)) d.push('configuration (secrets: not known to match)')
      if (d.length) plan.configure = true
    }
    if (p.enable !== undefined) {
      // XO leaves `loaded` unset until a first load.
      if (p.enable !== (x.loaded === true)) {
        d.push(p.enable ? 'load' : 'unload')
        plan.load = p.enable
      }
      if (p.enable !== (x.autoload === true)) {
        d.push(`autoload ${p.enable ? 'on' : 'off'}`)
        plan.autoload = p.enable
      }
    }
    add('plugin', name, d.length ? 'change' : 'ok', d, plan)
  }

  for (const [label, s] of Object.entries(state.servers)) {
    const id = `server:${label}`
    const x = o.servers.find((q) => q.label === label)
    const pw = digest(salt, input.readSecret(s.passwordFile, `xoState.servers.${label}.passwordFile`))
    if (!x) {
      add('server', label, 'create', [
        `${s.username}@${s.host}`,
        ...(s.readOnly ? ['read-only'] : []),
        ...(s.allowUnauthorized ? ['unauthorized certificate allowed'] : []),
        s.enabled ? 'enabled' : 'disabled',
      ])
      continue
    }
    const fields: string[] = []
    const d: string[] = []
    for (const f of ['host', 'username', 'allowUnauthorized', 'readOnly'] as const)
      if (s[f] !== x[f]) {
        fields.push(f)
        d.push(`${f} ${x[f]} → ${s[f]}`)
      }
    const mine = owned(id)
    if (mine?.id !== x.id || mine.sent !== pw) {
      fields.push('password')
      d.push(mine?.id === x.id ? 'password (secret)' : 'password (secret: not known to match)')
    }
    const enabled = s.enabled !== x.enabled ? s.enabled : undefined
    if (enabled !== undefined) d.push(s.enabled ? 'enable' : 'disable')
    add('server', label, d.length ? 'change' : 'ok', d, { xoId: x.id, fields, enabled })
  }

  for (const [name, r] of Object.entries(state.remotes)) {
    const id = `remote:${name}`
    const x = o.remotes.find((q) => q.name === name)
    const sf = remoteSecretFile(r)
    const url = remoteUrl(r, sf ? input.readSecret(sf.file, `xoState.remotes.${name}.${sf.key}`) : '')
    const options = 'options' in r ? (r.options ?? '') : ''
    if (!x) {
      add('remote', name, 'create', [remoteUrlShown(r), r.enabled ? 'enabled' : 'disabled'])
      continue
    }
    const fields: string[] = []
    const d: string[] = []
    const mine = owned(id)
    const urlDiffers = sf
      ? mine?.id !== x.id || mine.sent !== digest(salt, url) || mine.reported !== digest(salt, x.url)
      : x.url !== url
    if (urlDiffers) {
      fields.push('url')
      d.push(sf ? `url → ${remoteUrlShown(r)} (secret not shown)` : `url ${x.url} → ${url}`)
    }
    if ((x.options ?? '') !== options) {
      fields.push('options')
      d.push(`options "${x.options ?? ''}" → "${options}"`)
    }
    const enabled = r.enabled !== x.enabled ? r.enabled : undefined
    if (enabled !== undefined) d.push(r.enabled ? 'enable' : 'disable')
    add('remote', name, d.length ? 'change' : 'ok', d, { xoId: x.id, fields, enabled })
  }

  const userByEmail = new Map(o.users.map((u) => [u.email, u]))
  for (const [email, u] of Object.entries(state.users)) {
    const id = `user:${email}`
    const x = userByEmail.get(email)
    if (u.sso) {
      if (!x) add('user', email, 'skip', ['SSO: XO creates it at the first sign-in; reconciled after that'])
      else if (x.permission !== u.permission)
        add('user', email, 'change', [`permission ${x.permission} → ${u.permission}`], {
          xoId: x.id,
          fields: ['permission'],
        })
      else add('user', email, 'ok', ['SSO'])
      continue
    }
    const pw = digest(salt, input.readSecret(u.passwordFile as string, `xoState.users.${email}.passwordFile`))
    if (!x) {
      add('user', email, 'create', [`permission ${u.permission}`])
      continue
    }
    const fields: string[] = []
    const d: string[] = []
    if (x.permission !== u.permission) {
      fields.push('permission')
      d.push(`permission ${x.permission} → ${u.permission}`)
    }
    const mine = owned(id)
    if (mine?.id !== x.id || mine.sent !== pw) {
      fields.push('password')
      d.push(mine?.id === x.id ? 'password (secret)' : 'password (secret: not known to match)')
    }
    add('user', email, d.length ? 'change' : 'ok', d, { xoId: x.id, fields })
  }

  // A member or subject is an e-mail (or name) now; the executor turns it into XO's id once it exists.
  const pendingUser = (email: string) => {
    const u = state.users[email]
    return u !== undefined && !u.sso && !userByEmail.has(email)
  }
  const groupByName = new Map(o.groups.map((g) => [g.name, g]))
  for (const [name, g] of Object.entries(state.groups)) {
    const want: string[] = []
    const waiting: string[] = []
    g.members.forEach((email, i) => {
      if (userByEmail.has(email) || pendingUser(email)) want.push(email)
      else if (state.users[email]?.sso) waiting.push(email)
      else
        throw new UsageError(
          `xoState.groups.${name}.members[${i}]: no user ${email} in XO, and none declared in xoState.users`,
        )
    })
    const wait = waiting.length ? [`waiting for the first sign-in of ${waiting.join(', ')}`] : []
    const x = groupByName.get(name)
    if (!x) {
      add('group', name, 'create', [...(want.length ? [`members ${want.join(', ')}`] : []), ...wait], {
        addMembers: want,
      })
      continue
    }
    const emailOf = new Map(o.users.map((u) => [u.id, u.email]))
    const have = x.users.map((uid) => emailOf.get(uid) ?? uid)
    const addMembers = want.filter((e) => !have.includes(e))
    const removeMembers = have.filter((e) => !want.includes(e) && !waiting.includes(e))
    const d = [
      ...(addMembers.length ? [`add ${addMembers.join(', ')}`] : []),
      ...(removeMembers.length ? [`remove ${removeMembers.join(', ')}`] : []),
    ]
    add('group', name, d.length ? 'change' : 'ok', [...d, ...wait], { xoId: x.id, addMembers, removeMembers })
  }

  const wantedAcls = new Set<string>()
  for (const [i, a] of state.acls.entries()) {
    const name = aclName(a)
    const subject = resolveSubject(a.subject, state, o)
    if (subject === undefined)
      throw new UsageError(
        `xoState.acls[${i}].subject: ${a.subject} names no user or group (declared in xoState, or in XO)`,
      )
    wantedAcls.add(`acl:${name}`)
    if (subject === 'sso-waiting') {
      add('acl', name, 'skip', [`waiting for the first sign-in of ${a.subject}`])
      continue
    }
    if (subject === 'pending') {
      add('acl', name, 'create')
      continue
    }
    const acl = { subject, object: a.object, action: a.action }
    const exists = o.acls.some((x) => x.subject === subject && x.object === a.object && x.action === a.action)
    add('acl', name, exists ? 'ok' : 'create', [], { acl })
  }

  // What left the spec: deleted when xoa created it and XO still has it; otherwise forgotten.
  const inSpec = new Set(changes.map((c) => c.id))
  const present: Record<Exclude<XoKind, 'plugin' | 'acl'>, Set<string>> = {
    server: new Set(o.servers.map((x) => x.id)),
    remote: new Set(o.remotes.map((x) => x.id)),
    user: new Set(o.users.map((x) => x.id)),
    group: new Set(o.groups.map((x) => x.id)),
  }
  const deletes: XoChange[] = []
  for (const [id, mine] of Object.entries(record.objects)) {
    if (inSpec.has(id) || wantedAcls.has(id)) continue
    const kind = id.slice(0, id.indexOf(':')) as XoKind
    const name = id.slice(kind.length + 1)
    const stillThere =
      kind === 'plugin'
        ? false
        : kind === 'acl'
          ? !!mine.acl &&
            o.acls.some(
              (x) =>
                x.subject === mine.acl?.subject &&
                x.object === mine.acl.object &&
                x.action === mine.acl.action,
            )
          : present[kind]?.has(mine.id)
    if (!stillThere || !mine.created) {
      forget.push(id)
      if (stillThere)
        changes.push({
          id,
          kind,
          name,
          action: 'skip',
          details: ['left the spec; not made by xoa, left in XO'],
        })
      continue
    }
    deletes.push({ id, kind, name, action: 'delete', details: [], plan: { xoId: mine.id, acl: mine.acl } })
  }
  // Deleted in the reverse order of creation: rights first, the users and groups they name after.
  deletes.sort((a, b) => KIND_ORDER.indexOf(b.kind) - KIND_ORDER.indexOf(a.kind))
  return { changes: [...changes, ...deletes], forget }
}

export function aclName(a: XoAcl): string {
  return `${a.subject} ${a.action} on ${a.object}`
}

/** XO's id of an ACL subject; "pending" when it is declared and made in this run; undefined when unknown. */
export function resolveSubject(
  subject: string,
  state: XoStateSpec,
  o: Pick<Observed, 'users' | 'groups'>,
): string | 'pending' | 'sso-waiting' | undefined {
  const user = o.users.find((u) => u.email === subject)
  const group = o.groups.find((g) => g.name === subject)
  if (subject in state.users) return user?.id ?? (state.users[subject]?.sso ? 'sso-waiting' : 'pending')
  if (subject in state.groups) return group?.id ?? 'pending'
  if (user && group) return undefined
  return (
    user?.id ??
    group?.id ??
    (o.users.some((u) => u.id === subject) || o.groups.some((g) => g.id === subject) ? subject : undefined)
  )
}
