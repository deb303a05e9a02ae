// xo-server.service and its environment file: the current release, as the service account, hardened.
import { dirname, join } from 'node:path'
import { statePaths } from '../spec/paths.ts'
import type { Spec } from '../spec/schema.ts'
import { envSecretRefs, plainEnv } from '../spec/secret-refs.ts'
import { serverBaseEnvironment } from '../spec/server-env.ts'
import { hardening } from './hardening.ts'
import type { Artefact } from './index.ts'
import { REDIS_ACCOUNT, unitFileMeta } from './redis.ts'
import { envAssignment, execLine, formatUnit, quoteWord, type UnitLine } from './systemd.ts'
import type { RenderEnv, RenderedFile } from './types.ts'

export const XO_SERVER_ENV_FILE = '/etc/xoa/xo-server.env'
export const XO_SERVER_UNIT_FILE = '/etc/systemd/system/xo-server.service'

/** Ports below 1024 need CAP_NET_BIND_SERVICE; the ports xo-server binds per the spec. */
export function privilegedPorts(spec: Spec): number[] {
  const ports = [spec.xo.port, ...(spec.xo.ssl.enable ? [spec.xo.httpsPort] : [])]
  return ports.filter((p) => p < 1024)
}

function mountLines(spec: Spec): UnitLine[] {
  if (spec.mounts.mode !== 'sudo') {
    return [
      {
        comment:
          "Mounts are made by the broker in the host namespace and reach this service through systemd's\n" +
          'default slave mount propagation (mountsDir is in ReadWritePaths; PrivateMounts is deliberately unset).',
      },
    ]
  }
  return [
    {
      comment:
        'mounts.mode = "sudo" (seed-compatible): xo-server runs the setuid sudo, which needs privileges to gain\n' +
        '(NoNewPrivileges=no, full bounding set), the mount system calls and /dev/fuse for vhdimount.\n' +
        'This gives the service account root through `sudo mount`; mounts.mode = "broker" avoids all of it.',
    },
    ['NoNewPrivileges', false],
    ['SystemCallFilter', '@mount'],
    ['PrivateDevices', false],
    ['DevicePolicy', 'closed'],
    ['DeviceAllow', '/dev/fuse rw'],
  ]
}

export function renderXoServerUnit(spec: Spec, env: RenderEnv): RenderedFile {
  const p = statePaths(spec)
  const broker = spec.mounts.mode === 'broker'
  const sudo = spec.mounts.mode === 'sudo'
  const lowPorts = privilegedPorts(spec)
  // xo-server resolves relative plugin and UI paths from its package directory, as upstream runs it.
  const workDir = dirname(dirname(p.currentServer))
  const hard = hardening({
    readWritePaths: [spec.xo.dataDir, spec.xo.tempDir, spec.xo.mountsDir, p.serverConfigHome, p.logs],
    // AF_NETLINK: os.networkInterfaces() (getifaddrs) needs it; without it Node throws.
    addressFamilies: ['AF_UNIX', 'AF_INET', 'AF_INET6', 'AF_NETLINK'],
    capabilities: lowPorts.length > 0 ? ['CAP_NET_BIND_SERVICE'] : [],
    capabilityReason:
      `Port(s) ${lowPorts.join(', ')} < 1024: exactly CAP_NET_BIND_SERVICE, nothing else. ` +
      'Ports >= 1024 need no capability.',
    jit: true,
  })
  // In sudo mode the bounding set must stay full and ~@privileged must go: sudo is a setuid root program.
  const relaxed = sudo
    ? hard.filter(
        (l) =>
          !(
            Array.isArray(l) &&
            // AmbientCapabilities stays: xo-server still needs CAP_NET_BIND_SERVICE for ports < 1024.
            (['NoNewPrivileges', 'CapabilityBoundingSet', 'PrivateDevices'].includes(l[0]) ||
              (l[0] === 'SystemCallFilter' && String(l[1]).startsWith('~')))
          ),
      )
    : hard
  const content = formatUnit([
    [
      'Unit',
      [
        ['Description', 'Xen Orchestra server (xo-server, current release)'],
        ['Documentation', 'https://docs.xen-orchestra.com/'],
        {
          comment:
            'Without bootstrap (dirs, certificate, declared admin) xo-server would create admin@admin.net.',
        },
        ['Requires', `${REDIS_ACCOUNT}.service xo-bootstrap.service`],
        ['Wants', `network-online.target xo-build.service${broker ? ' xoa-mountd.socket' : ''}`],
        [
          'After',
          `network-online.target ${REDIS_ACCOUNT}.service xo-build.service xo-bootstrap.service${broker ? ' xoa-mountd.socket' : ''}`,
        ],
      ],
    ],
    [
      'Service',
      [
        ['Type', 'simple'],
        ['User', spec.service.user],
        ['Group', spec.service.group],
        { comment: 'The Redis socket is reachable by the redis-xo group only.' },
        ['SupplementaryGroups', REDIS_ACCOUNT],
        // WorkingDirectory takes the rest of the line as the path: no quotes, only specifiers escaped.
        ['WorkingDirectory', workDir],
        ['ExecStart', execLine([p.currentNode, p.currentServer])],
        ...(broker
          ? [
              {
                comment: "The shim dir comes first: xo-server's `sudo` is the mount broker's client.",
              } as const,
            ]
          : []),
        ...Object.entries(serverBaseEnvironment(spec, env.platform)).map(
          ([k, v]) => ['Environment', envAssignment(k, v)] as const,
        ),
        { comment: 'xo.extraServerEnv, kept out of this world-readable file.' },
        ['EnvironmentFile', quoteWord(XO_SERVER_ENV_FILE)],
        {
          comment:
            'Its { file = … } values, resolved by xo-bootstrap (root) at run time; systemd reads both as root.',
        },
        // The rest of the line is the path, unquoted (systemd.exec(5)); formatUnit escapes specifiers.
        ['EnvironmentFile', secretEnvFile(spec)],
        ['Restart', 'on-failure'],
        ['RestartSec', 5],
        ['SyslogIdentifier', 'xo-server'],
        ...relaxed,
        ...mountLines(spec),
      ],
    ],
    ['Install', [['WantedBy', 'multi-user.target']]],
  ])
  return { path: XO_SERVER_UNIT_FILE, content, ...unitFileMeta }
}

/** systemd's EnvironmentFile syntax: double quotes, with \ " ` $ escaped. */
function envFileValue(v: string): string {
  return `"${v.replace(/[\\"`$]/g, (c) => `\\${c}`)}"`
}

/** The environment file of xo.extraServerEnv's `{ file }` values, written by root at run time (never rendered). */
export function secretEnvFile(spec: Spec): string {
  return join(statePaths(spec).secrets, 'xo-server.env')
}

/** An EnvironmentFile= holding `values`, sorted by name. */
export function envFileContent(header: string, values: Record<string, string>, notes: string[] = []): string {
  const lines = Object.entries(values)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${envFileValue(v)}`)
  return [header, ...notes, ...lines, ''].join('\n')
}

export function renderXoServerEnv(spec: Spec): RenderedFile {
  // Named (never their values) so a changed reference changes this file, which restarts xo-server.
  const notes = envSecretRefs(spec.xo.extraServerEnv).map(
    (r) => `# ${r.name}: from ${r.file}, in ${secretEnvFile(spec)} at run time`,
  )
  return {
    path: XO_SERVER_ENV_FILE,
    content: envFileContent(
      '# Managed by xoa: xo.extraServerEnv for xo-server.service.',
      plainEnv(spec.xo.extraServerEnv),
      notes,
    ),
    // systemd (root) reads it before dropping privileges: nobody else needs to, and values may be secrets.
    mode: 0o600,
    owner: 'root',
    group: 'root',
    secret: true,
  }
}

export const xoServerUnitArtefact: Artefact = {
  name: 'xo-server.service',
  description:
    'hardened systemd unit of xo-server (current release, service account) and its environment file',
  render: (spec, env) => [renderXoServerUnit(spec, env), renderXoServerEnv(spec)],
}
