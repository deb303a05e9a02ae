// The units that run xoa itself: xo-bootstrap (dirs, certificate, admin), xo-build (build when the build key
// changed) and, when updates.schedule is set, xoa-update.service + .timer.
import { dirname } from 'node:path'
import { statePaths } from '../spec/paths.ts'
import type { Spec } from '../spec/schema.ts'
import { hardening } from './hardening.ts'
import type { Artefact } from './index.ts'
import { platformLines } from './platform-env.ts'
import { REDIS_ACCOUNT, unitFileMeta } from './redis.ts'
import { envAssignment, execLine, formatUnit, type UnitLine } from './systemd.ts'
import type { RenderEnv, RenderedFile } from './types.ts'

const UNIT_DIR = '/etc/systemd/system'

// What a unit that builds XO (xo-build, and xoa-update: `xoa upgrade` builds too) needs besides the rest.
const PRIVATE_MOUNTS: UnitLine[] = [
  {
    comment:
      'This unit has a mount namespace of its own (ProtectSystem=): xoa mounts the release store nosuid ' +
      'in it for the build, and the mount ends with the unit.',
  },
  ['Environment', envAssignment('XOA_PRIVATE_MOUNTS', '1')],
]
const BUILDS = {
  setidReason:
    'RestrictSUIDSGID= is deliberately not set: npm tarballs XO depends on (fuse-shared-library-linux) ' +
    'chmod a script to 6775 during yarn install. The bits are void here (NoNewPrivileges=, the ' +
    'release store mounted nosuid) and xoa strips every one of them when it seals the release.',
  extra: [
    { comment: 'mount(2) for that nosuid bind mount of the release store, in the units that build only.' },
    ['SystemCallFilter', '@mount'],
  ] as UnitLine[],
}

const xoaExec = (env: RenderEnv, command: string) =>
  execLine([...env.xoaCommand, command, '--spec', env.specPath])

export function renderBootstrapUnit(_spec: Spec, env: RenderEnv): RenderedFile {
  const content = formatUnit([
    [
      'Unit',
      [
        ['Description', 'Xen Orchestra bootstrap: directories, certificate, declared admin (xoa bootstrap)'],
        {
          comment:
            "The admin is created with the release's recover-account-cli, in Redis, before xo-server starts.",
        },
        ['Requires', `${REDIS_ACCOUNT}.service`],
        ['Wants', 'xo-build.service'],
        ['After', `${REDIS_ACCOUNT}.service xo-build.service`],
      ],
    ],
    [
      'Service',
      [
        ['Type', 'oneshot'],
        ['RemainAfterExit', true],
        ['ExecStart', xoaExec(env, 'bootstrap')],
        ...platformLines(env),
        {
          comment:
            'Root: it creates directories and the key for the service account and reads the admin password.',
        },
        ...hardening({
          root: true,
          // It creates the directories the spec names (data, temp, mounts, state, certificate) wherever they are,
          // so only /usr and /boot are read-only; /etc must stay writable for xo.ssl.dir (often /etc/ssl/xo).
          protectSystem: 'yes',
          readWritePaths: [],
          // Redis' socket; the network for the certificate's names (os.networkInterfaces needs AF_NETLINK).
          addressFamilies: ['AF_UNIX', 'AF_INET', 'AF_INET6', 'AF_NETLINK'],
          jit: true,
        }),
      ],
    ],
  ])
  return { path: `${UNIT_DIR}/xo-bootstrap.service`, content, ...unitFileMeta }
}

export function renderBuildUnit(spec: Spec, env: RenderEnv): RenderedFile {
  const p = statePaths(spec)
  const content = formatUnit([
    [
      'Unit',
      [
        ['Description', 'Xen Orchestra build (xoa build; a no-op when the build key is unchanged)'],
        ['Wants', 'network-online.target'],
        ['After', 'network-online.target'],
      ],
    ],
    [
      'Service',
      [
        ['Type', 'oneshot'],
        {
          comment:
            'Root for git, the release store and its symlinks; xoa runs yarn (the install scripts of ~2700 ' +
            `npm packages) as ${spec.service.user}, never as root, then hands the release to root, read-only.`,
        },
        ['ExecStart', xoaExec(env, 'build')],
        ...platformLines(env),
        ['Environment', envAssignment('HOME', dirname(p.serverConfigHome))],
        ...PRIVATE_MOUNTS,
        { comment: 'A cold build takes minutes; an unchanged build key returns at once.' },
        ['TimeoutStartSec', '2h'],
        ...hardening({
          // Releases, caches, runtimes and the current/previous symlinks live in the state dir (or build.storeDir).
          readWritePaths: [...new Set([spec.xo.stateDir, statePaths(spec).store])],
          // AF_NETLINK: Node's os.networkInterfaces(); the network: git and the npm registry.
          addressFamilies: ['AF_UNIX', 'AF_INET', 'AF_INET6', 'AF_NETLINK'],
          // It changes owners (chown) and drops to the service account (setuid) for the yarn steps.
          root: true,
          jit: true,
          ...BUILDS,
        }),
      ],
    ],
  ])
  return { path: `${UNIT_DIR}/xo-build.service`, content, ...unitFileMeta }
}

/** xoa-update.service + .timer; nothing when updates.schedule is unset. */
export function renderUpdateUnits(spec: Spec, env: RenderEnv): RenderedFile[] {
  const schedule = spec.updates.schedule
  if (schedule === undefined) return []
  const service = formatUnit([
    [
      'Unit',
      [
        ['Description', `Xen Orchestra scheduled upgrade (channel ${spec.updates.channel})`],
        ['Wants', 'network-online.target'],
        ['After', 'network-online.target'],
      ],
    ],
    [
      'Service',
      [
        ['Type', 'oneshot'],
        {
          comment: 'Root: it switches releases and restarts xo-server (health-gated, rolls back on failure).',
        },
        ['ExecStart', xoaExec(env, 'upgrade')],
        ...platformLines(env),
        ...PRIVATE_MOUNTS,
        ['TimeoutStartSec', '3h'],
        ...hardening({
          root: true,
          protectSystem: 'yes',
          readWritePaths: [],
          addressFamilies: ['AF_UNIX', 'AF_INET', 'AF_INET6', 'AF_NETLINK'],
          jit: true,
          ...BUILDS,
        }),
      ],
    ],
  ])
  const timer = formatUnit([
    ['Unit', [['Description', `Xen Orchestra scheduled upgrade (${schedule})`]]],
    [
      'Timer',
      [
        ['OnCalendar', schedule],
        { comment: 'A run missed while the machine was off happens at the next boot.' },
        ['Persistent', true],
      ],
    ],
    ['Install', [['WantedBy', 'timers.target']]],
  ])
  return [
    { path: `${UNIT_DIR}/xoa-update.service`, content: service, ...unitFileMeta },
    { path: `${UNIT_DIR}/xoa-update.timer`, content: timer, ...unitFileMeta },
  ]
}

export const bootstrapUnitArtefact: Artefact = {
  name: 'xo-bootstrap.service',
  description: 'oneshot unit: directories, certificate, declared admin before xo-server starts',
  render: (spec, env) => [renderBootstrapUnit(spec, env)],
}

export const buildUnitArtefact: Artefact = {
  name: 'xo-build.service',
  description: 'oneshot unit: xoa build as the service account (no-op when the build key is unchanged)',
  render: (spec, env) => [renderBuildUnit(spec, env)],
}

export const updateUnitsArtefact: Artefact = {
  name: 'xoa-update.timer',
  description: 'scheduled `xoa upgrade` (service + timer), only when updates.schedule is set',
  render: renderUpdateUnits,
}

/**
 * xoa-state.service: `xoa state apply` after every start of xo-server (WantedBy= it, so a start pulls it in),
 * waiting for XO to be healthy first. Always rendered: with nothing declared it deletes what xoa made before
 * and is a no-op after that (docs/xo-state.md).
 */
export function renderStateUnit(spec: Spec, env: RenderEnv): RenderedFile {
  const content = formatUnit([
    [
      'Unit',
      [
        ['Description', "Xen Orchestra's own state from the spec: plugins, pools, remotes, users, ACLs"],
        {
          comment:
            'Started by every start of xo-server (WantedBy= below), never the other way round: PartOf= stops a ' +
            'run with xo-server and pulls nothing in.',
        },
        ['After', 'xo-server.service'],
        ['PartOf', 'xo-server.service'],
      ],
    ],
    [
      'Service',
      [
        ['Type', 'oneshot'],
        {
          comment:
            "Root: it reads the secret files the spec names and the web admin's password (root-only), and " +
            'keeps its ownership record and XO config exports in the state dir.',
        },
        [
          'ExecStart',
          execLine([...env.xoaCommand, 'state', 'apply', '--yes', '--wait', '300', '--spec', env.specPath]),
        ],
        ...platformLines(env),
        ['TimeoutStartSec', '15min'],
        ...hardening({
          root: true,
          // The record lives in <stateDir>/secrets, the config exports in <stateDir>/backups.
          readWritePaths: [spec.xo.stateDir],
          // XO's API over HTTPS on loopback (or xo.host).
          addressFamilies: ['AF_UNIX', 'AF_INET', 'AF_INET6'],
          jit: true,
        }),
      ],
    ],
    ['Install', [['WantedBy', 'xo-server.service']]],
  ])
  return { path: `${UNIT_DIR}/xoa-state.service`, content, ...unitFileMeta }
}

export const stateUnitArtefact: Artefact = {
  name: 'xoa-state.service',
  description: 'oneshot unit after xo-server: `xoa state apply` (XO plugins, pools, remotes, users, ACLs)',
  render: (spec, env) => [renderStateUnit(spec, env)],
}
