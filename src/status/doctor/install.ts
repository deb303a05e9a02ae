// What must be on disk before xo-server can start: a complete release, the rendered config, sane permissions,
// a real mounts directory. The seed's "Server Won't Start" section, automated.
import { readdirSync } from 'node:fs'
import { basename, join } from 'node:path'
import { parse as parseToml } from 'smol-toml'
import { currentId, previousId, readManifest } from '../../build/store.ts'
import { XO_CONFIG_DIR } from '../../render/types.ts'
import { renderXoServerConfig, XO_SERVER_CONFIG, XO_SERVER_SECRETS } from '../../render/xo-server-config.ts'
import { statePaths } from '../../spec/paths.ts'
import { exists, hostStatePaths, octal, pathFacts, readText, serviceIds } from '../host.ts'
import { type ModelFacts, observeModel } from './host-model.ts'
import { bySystemd, type Check, type DoctorContext, type Finding, fail, ok, specArg, warn } from './types.ts'

export const releaseCheck: Check = {
  name: 'release',
  run(ctx) {
    const p = hostStatePaths(ctx.spec, ctx.host)
    const id = currentId(p)
    const prev = previousId(p)
    const build = `xoa build${specArg(ctx)}`
    if (!id) return [fail('release', 'no current release: nothing to run', build)]
    const dir = join(p.releases, id)
    const m = readManifest(dir)
    const back = prev && prev !== id ? `xoa rollback${specArg(ctx)} (to ${prev})` : build
    if (!m) return [fail('release', `current points at ${id}, which is not a complete release`, back)]
    const missing = [
      join('xo', 'packages', 'xo-server', 'dist', 'cli.mjs'),
      join('node', 'bin', 'node'),
    ].filter((f) => !exists(ctx.host, join(statePaths(ctx.spec).releases, id, f)))
    if (missing.length > 0)
      return [
        fail(
          'release',
          `release ${id} lacks ${missing.join(' and ')}`,
          `${back}; then remove ${join(statePaths(ctx.spec).releases, id)}`,
        ),
      ]
    return [ok('release', `${id} (rev ${m.rev.slice(0, 10)}, node ${m.node})`)]
  },
}

export const configCheck: Check = {
  name: 'config',
  run(ctx) {
    const config = ctx.layout.xoConfig
    const fix = bySystemd(ctx, `xoa apply${specArg(ctx)}`, `restart xoa up (it rewrites ${config})`)
    const text = readText(ctx.host, config)
    if (text === undefined) return [fail('config', `${config} is missing`, fix)]
    try {
      parseToml(text)
    } catch (e) {
      const first = (e as Error).message.split('\n')[0]
      return [fail('config', `${config} is not valid TOML: ${first}`, fix)]
    }
    const out: Finding[] = []
    if (text !== renderXoServerConfig(ctx.spec).content)
      out.push(
        fail(
          'config',
          `${config} differs from what the spec renders (edited by hand, or the spec changed)`,
          fix,
        ),
      )
    else out.push(ok('config', `${config} matches the spec`))
    if (ctx.server.mode === 'systemd') out.push(...foreignConfigFiles(ctx))
    return out
  },
}

/** xo-server merges every /etc/xo-server/config.*: a stray one silently overrides what the spec says. */
function foreignConfigFiles(ctx: DoctorContext): Finding[] {
  const known = new Set([basename(XO_SERVER_CONFIG), basename(XO_SERVER_SECRETS)])
  let names: string[] = []
  try {
    names = readdirSync(ctx.host.path(XO_CONFIG_DIR))
  } catch {
    return []
  }
  return names
    .filter((n) => n.startsWith('config.') && !known.has(n))
    .map((n) =>
      warn(
        'config',
        `${XO_CONFIG_DIR}/${n} is not xoa's: xo-server merges it over the spec's settings`,
        `move its settings into xo.settings of the spec, then rm ${XO_CONFIG_DIR}/${n} && xoa apply${specArg(ctx)}`,
      ),
    )
}

export const permissionsCheck: Check = {
  name: 'permissions',
  async run(ctx) {
    const { spec, host } = ctx
    const out: Finding[] = []
    const ids = serviceIds(host, spec)
    const create = bySystemd(ctx, `xoa apply${specArg(ctx)}`, `xoa up${specArg(ctx)} (creates it)`)
    if (ids.uid === undefined && ctx.server.mode === 'systemd')
      out.push(
        fail(
          'permissions',
          `the service account ${spec.service.user} does not exist`,
          `xoa apply${specArg(ctx)}`,
        ),
      )
    // The dirs and secrets as the plan describes them (owner, mode), seen the way the plan sees them.
    const model = await observeModel(spec, ctx.layout.mode, host)
    for (const d of model.dirs) out.push(...dirFindings(d, create))
    if (spec.xo.ssl.enable) out.push(...keyFindings(ctx))
    const rerun = bySystemd(ctx, 'systemctl restart xo-bootstrap', `xoa up${specArg(ctx)}`)
    for (const s of model.secrets) out.push(...secretFindings(s, rerun))
    if (out.length === 0)
      out.push(
        ok('permissions', `data, temp and mount dirs owned by ${spec.service.user}; key and secrets private`),
      )
    return out
  },
}

function dirFindings(d: ModelFacts['dirs'][number], create: string): Finding[] {
  const { resource: r, field, state: st } = d
  const secretsDir = r.owner === 'root' && r.group === 'root'
  if (!st) return secretsDir ? [] : [fail('permissions', `${r.path} (${field}) does not exist`, create)]
  if (st.type !== 'dir') return [] // the mount path check says what is wrong with a non-directory
  const out: Finding[] = []
  if (st.owner !== r.owner)
    out.push(
      fail(
        'permissions',
        `${r.path} (${field}) is not owned by ${r.owner}`,
        `chown ${r.owner}:${r.group} ${r.path}`,
      ),
    )
  if (secretsDir && st.mode & 0o077)
    out.push(
      fail(
        'permissions',
        `${r.path} is open to others (${octal(st.mode)}); it holds the admin password`,
        `chmod ${octal(r.mode).slice(1)} ${r.path}`,
      ),
    )
  else if (st.mode & 0o002)
    out.push(
      fail(
        'permissions',
        `${r.path} (${field}) is world-writable (${octal(st.mode)})`,
        `chmod o-rwx ${r.path}`,
      ),
    )
  return out
}

function secretFindings(s: ModelFacts['secrets'][number], rerun: string): Finding[] {
  const { resource: r, state: st } = s
  if (!st)
    return r.declared
      ? [
          fail(
            'permissions',
            `${r.path} (webAdmin.passwordFile) does not exist`,
            `write the password into ${r.path} (mode 600)`,
          ),
        ]
      : [warn('permissions', `${r.path} is missing (${r.description}): xoa bootstrap makes it`, rerun)]
  // Bits beyond what bootstrap gives it (a declared file may be a secret manager's symlink: its target counts).
  const extra = st.type === 'symlink' ? 0 : st.mode & ~r.mode & 0o777
  if (extra & 0o007)
    return [
      fail(
        'permissions',
        `${r.path} (${r.description}) is readable by every user (${octal(st.mode)})`,
        `chmod o-rwx ${r.path}`,
      ),
    ]
  if (extra & 0o070)
    return [
      fail(
        'permissions',
        `${r.path} is readable by others (${octal(st.mode)})`,
        `chmod ${octal(r.mode).slice(1)} ${r.path}`,
      ),
    ]
  return []
}

function keyFindings(ctx: DoctorContext): Finding[] {
  const key = ctx.spec.xo.ssl.key
  const st = pathFacts(ctx.host, key)
  if (st && st.mode & 0o007)
    return [
      fail(
        'permissions',
        `the private key ${key} is readable by every user (${octal(st.mode)})`,
        `chmod 600 ${key}`,
      ),
    ]
  if (st && st.mode & 0o070)
    return [
      warn(
        'permissions',
        `the private key ${key} is readable by its group (${octal(st.mode)})`,
        `chmod 600 ${key}`,
      ),
    ]
  return []
}

export const mountPathCheck: Check = {
  name: 'mount-path',
  run(ctx) {
    const dir = ctx.spec.xo.mountsDir
    const st = pathFacts(ctx.host, dir)
    const recreate = bySystemd(ctx, `xoa apply${specArg(ctx)}`, `xoa up${specArg(ctx)}`)
    if (!st) return [fail('mount-path', `${dir} (xo.mountsDir) does not exist`, recreate)]
    if (st.type === 'symlink')
      return [
        fail(
          'mount-path',
          `${dir} (xo.mountsDir) is a symlink: mounts would land wherever it points`,
          `rm ${dir} && ${recreate}`,
        ),
      ]
    if (st.type !== 'dir')
      return [fail('mount-path', `${dir} (xo.mountsDir) is not a directory`, `rm ${dir} && ${recreate}`)]
    if (st.uid !== 0 || (st.mode & 0o1000) === 0 || (st.mode & 0o002) !== 0) {
      // Without the broker nothing root does mounts there, so its owner cannot turn it against root.
      if (ctx.spec.mounts.mode === 'none')
        return [ok('mount-path', `${dir} is a directory (mounts.mode = "none": nothing is mounted there)`)]
      return [
        fail(
          'mount-path',
          `${dir} (xo.mountsDir) is uid ${st.uid} mode ${octal(st.mode)}, not root's and sticky (01770): the broker refuses to mount there`,
          recreate,
        ),
      ]
    }
    return [ok('mount-path', `${dir} is a root-owned sticky directory`)]
  },
}
