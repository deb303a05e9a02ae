// Spec → the ordered list of resources a host running xoa must have. Pure. Secrets are listed (owner, mode, what
// makes them) but generated at run time by xoa bootstrap, never by apply: one place for every front-end.
import { basename, dirname } from 'node:path'
import { type HostDir, hostDirectories, XOA_CONFIG_DIR } from '../host/directories.ts'
import { hostSecrets } from '../host/secrets.ts'
import { toolPath } from '../platform/platform.ts'
import { renderAll } from '../render/index.ts'
import { REDIS_ACCOUNT } from '../render/redis.ts'
import type { RenderEnv, RenderedFile } from '../render/types.ts'
import { XO_CONFIG_DIR } from '../render/types.ts'
import { XO_SERVER_CONFIG, XO_SERVER_SECRETS } from '../render/xo-server-config.ts'
import { XO_SERVER_ENV_FILE } from '../render/xo-server-unit.ts'
import { HOST_PIN_FILE } from '../source/pin.ts'
import type { Spec } from '../spec/schema.ts'
import { packagesFor } from './packages.ts'
import type { DirResource, Resource, SecretResource, SeedResource, UnitResource } from './resources.ts'

const UNIT_DIR = '/etc/systemd/system'

/** The spec file as given, installed where the units read it. */
export interface SpecSource {
  path: string
  text: string
}

/** Facts from the machine xoa runs on (not the target), read by the CLI: what to seed the host with. */
export interface Seeds {
  /** The xo-source.json shipped with xoa: seeds the host pin once (`xoa update` rewrites it after). */
  shippedPin?: { path: string; text: string }
}

export function desired(spec: Spec, env: RenderEnv, specSource?: SpecSource, seeds: Seeds = {}): Resource[] {
  const files = [...renderAll(spec, env), ...(specSource ? [installedSpec(specSource)] : [])]
  return [
    ...packagesFor(spec).map((name): Resource => ({ kind: 'package', name })),
    ...groups(spec),
    ...users(spec, env),
    ...dirs(spec),
    ...[...files]
      .sort((a, b) => a.path.localeCompare(b.path))
      .map((file): Resource => ({ kind: 'file', file })),
    ...secrets(spec),
    ...seeded(spec, seeds),
    ...units(files),
  ]
}

/** Where apply installs the spec; the rendered units pass this path to xoa. */
export function installedSpecPath(source: SpecSource): string {
  return `${XOA_CONFIG_DIR}/${source.path.endsWith('.json') ? 'xoa.json' : 'xoa.toml'}`
}

function installedSpec(source: SpecSource): RenderedFile {
  const json = source.path.endsWith('.json')
  // Root only: passwords live in files the spec names, but extraServerEnv and xo.settings may still carry
  // credentials (an LDAP bind password), protected as 0640/0600 everywhere else. Every reader is a root unit.
  return {
    path: installedSpecPath(source),
    content: source.text,
    mode: 0o600,
    owner: 'root',
    group: 'root',
    validate: json ? undefined : 'toml',
  }
}

function groups(spec: Spec): Resource[] {
  const g = (name: string, system = true): Resource => ({ kind: 'group', name, system })
  const gid = spec.service.gid
  return dedupe([
    { ...g(spec.service.group), ...(gid === undefined ? {} : { gid: { id: gid, field: 'service.gid' } }) },
    g(REDIS_ACCOUNT),
    ...(spec.admin.enable ? [g(spec.admin.user, false), g('sudo'), g('systemd-journal')] : []),
  ])
}

function users(spec: Spec, env: RenderEnv): Resource[] {
  const nologin = toolPath(env.platform, 'nologin')
  const out: Resource[] = [
    {
      kind: 'user',
      name: spec.service.user,
      system: true,
      group: spec.service.group,
      // The Redis socket is group redis-xo, mode 660 (also for `xoa up`, which has no SupplementaryGroups=).
      groups: [REDIS_ACCOUNT],
      home: spec.xo.stateDir,
      createHome: false,
      shell: nologin,
      comment: 'Xen Orchestra',
      ...(spec.service.uid === undefined ? {} : { uid: { id: spec.service.uid, field: 'service.uid' } }),
    },
    {
      kind: 'user',
      name: REDIS_ACCOUNT,
      system: true,
      group: REDIS_ACCOUNT,
      groups: [],
      home: spec.redis.dir,
      createHome: false,
      shell: nologin,
      comment: 'Redis for Xen Orchestra',
    },
  ]
  if (spec.admin.enable)
    out.push({
      kind: 'user',
      name: spec.admin.user,
      system: false,
      group: spec.admin.user,
      groups: ['sudo', 'systemd-journal'],
      home: adminHome(spec),
      createHome: true,
      shell: toolPath(env.platform, 'bash'),
      comment: 'Xen Orchestra admin (SSH keys only)',
    })
  return out
}

export function adminHome(spec: Spec): string {
  return `/home/${spec.admin.user}`
}

function dirs(spec: Spec): Resource[] {
  const dir = (d: HostDir): DirResource => ({ kind: 'dir', ...d })
  const list: DirResource[] = hostDirectories(spec).map(dir)
  if (spec.admin.enable) {
    const a = spec.admin.user
    list.push(
      dir({ path: adminHome(spec), owner: a, group: a, mode: 0o750 }),
      dir({ path: `${adminHome(spec)}/.ssh`, owner: a, group: a, mode: 0o700 }),
    )
  }
  // Parents before children; the first declaration of a path wins.
  return dedupe(list).sort((a, b) =>
    a.kind === 'dir' && b.kind === 'dir' ? a.path.localeCompare(b.path) : 0,
  )
}

/** The host's secrets (src/host/secrets.ts): xoa bootstrap makes them at run time, apply only shows them. */
function secrets(spec: Spec): SecretResource[] {
  return hostSecrets(spec, 'systemd').map(({ id: _, ...s }) => ({ kind: 'secret', ...s }))
}

function seeded(spec: Spec, seeds: Seeds): SeedResource[] {
  const pin = seeds.shippedPin
  if (!pin || spec.source.pinFile !== undefined) return []
  return [
    {
      kind: 'seed',
      path: HOST_PIN_FILE,
      owner: 'root',
      group: 'root',
      mode: 0o644,
      description: `from ${pin.path}`,
      generate: () => pin.text,
    },
  ]
}

function units(files: RenderedFile[]): UnitResource[] {
  const unitFiles = files.filter(
    (f) => dirname(f.path) === UNIT_DIR && /\.(service|socket|timer|path)$/.test(f.path),
  )
  return unitFiles.map((f) => {
    const name = basename(f.path)
    const installable = /^\[Install\]/m.test(f.content)
    const inputs = files
      .filter((o) => o.path === f.path || dirname(o.path) === `${UNIT_DIR}/${name}.d` || configOf(name, o))
      .map((o) => o.path)
    if (name === 'xo-server.service') inputs.push(XO_SERVER_SECRETS)
    // Bootstrap resolves the `{ file }` values these two files name: it runs again when they change, and its
    // restart restarts xo-server (Requires=), which reads what it wrote.
    if (name === 'xo-bootstrap.service') inputs.push(XO_SERVER_ENV_FILE, XO_SERVER_CONFIG)
    // xoa-state runs when xo-server starts (WantedBy=xo-server.service), once XO answers: apply enables it
    // and leaves the starting to xo-server, so an apply before the first build never waits on it.
    const start = installable && name !== 'xoa-state.service'
    return { kind: 'unit', name, enable: installable, start, inputs }
  })
}

/** Config files a unit reads at start: a change restarts it. */
function configOf(unit: string, f: RenderedFile): boolean {
  if (unit === 'xo-server.service') return dirname(f.path) === XO_CONFIG_DIR
  if (unit === `${REDIS_ACCOUNT}.service`) return f.validate === 'redis'
  return false
}

/** Executables the build or setup provide after apply: unit verification must not insist they exist yet. */
export function laterProvided(spec: Spec, env: RenderEnv): string[] {
  return [spec.xo.stateDir, ...env.xoaCommand.slice(0, 1)]
}

function dedupe<T extends Resource>(list: T[]): T[] {
  const seen = new Set<string>()
  return list.filter((r) => {
    const k = `${r.kind} ${'path' in r ? r.path : 'name' in r ? r.name : ''}`
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
}
