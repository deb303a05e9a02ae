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
  run(ctx) {
    const { spec, host } = ctx
    const out: Finding[] = []
    const ids = serviceIds(host, spec)
    const account = `${spec.service.user}:${spec.service.group}`
    const create = bySystemd(ctx, `xoa apply${specArg(ctx)}`, `xoa up${specArg(ctx)} (creates it)`)
    if (ids.uid === undefined && ctx.server.mode === 'systemd')
      out.push(
        fail(
          'permissions',
          `the service account ${spec.service.user} does not exist`,
          `xoa apply${specArg(ctx)}`,
        ),
      )
    for (const [field, dir] of [
      ['xo.dataDir', spec.xo.dataDir],
      ['xo.tempDir', spec.xo.tempDir],
      // xo.mountsDir is root's (sticky, the group writes): the mount-path check has its rules.
    ] as const) {
      const st = pathFacts(host, dir)
      if (!st) {
        out.push(fail('permissions', `${dir} (${field}) does not exist`, create))
        continue
      }
      if (st.type !== 'dir') continue // the mount path check says what is wrong with it
      if (ids.uid !== undefined && st.uid !== ids.uid)
        out.push(
          fail(
            'permissions',
            `${dir} (${field}) is not owned by ${spec.service.user}`,
            `chown ${account} ${dir}`,
          ),
        )
      if (st.mode & 0o002)
        out.push(
          fail(
            'permissions',
            `${dir} (${field}) is world-writable (${octal(st.mode)})`,
            `chmod o-rwx ${dir}`,
          ),
        )
    }
    if (spec.xo.ssl.enable) {
      const key = spec.xo.ssl.key
      const st = pathFacts(host, key)
      if (st && st.mode & 0o007)
        out.push(
          fail(
            'permissions',
            `the private key ${key} is readable by every user (${octal(st.mode)})`,
            `chmod 600 ${key}`,
          ),
        )
      else if (st && st.mode & 0o070)
        out.push(
          warn(
            'permissions',
            `the private key ${key} is readable by its group (${octal(st.mode)})`,
            `chmod 600 ${key}`,
          ),
        )
    }
    const p = statePaths(spec)
    const secrets = pathFacts(host, p.secrets)
    if (secrets && secrets.mode & 0o077)
      out.push(
        fail(
          'permissions',
          `${p.secrets} is open to others (${octal(secrets.mode)}); it holds the admin password`,
          `chmod 700 ${p.secrets}`,
        ),
      )
    const pw = pathFacts(host, p.adminPasswordFile)
    if (pw && pw.mode & 0o077)
      out.push(
        fail(
          'permissions',
          `${p.adminPasswordFile} is readable by others (${octal(pw.mode)})`,
          `chmod 600 ${p.adminPasswordFile}`,
        ),
      )
    // No session secret file where xoa writes none (NixOS): xo-server keeps its own.
    const sessionFile = ctx.layout.xoSecrets
    const sf = sessionFile === undefined ? undefined : pathFacts(host, sessionFile)
    if (sessionFile !== undefined && !sf)
      out.push(
        warn(
          'permissions',
          `${sessionFile} is missing: xo-server will keep its own session secret elsewhere`,
          create,
        ),
      )
    else if (sf && sf.mode & 0o007)
      out.push(
        fail(
          'permissions',
          `${sessionFile} (the session secret) is readable by every user (${octal(sf.mode)})`,
          `chmod o-rwx ${sessionFile}`,
        ),
      )
    if (out.length === 0)
      out.push(
        ok('permissions', `data, temp and mount dirs owned by ${spec.service.user}; key and secrets private`),
      )
    return out
  },
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
