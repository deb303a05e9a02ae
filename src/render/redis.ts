// The dedicated Redis of xo-server, like NixOS' services.redis.servers.xo: its own account `redis-xo`, a Unix
// socket only (no TCP), AOF persistence and no eviction (Redis is XO's primary database: users, remotes, jobs).
import { dirname } from 'node:path'
import { toolPath } from '../platform/platform.ts'
import type { Spec } from '../spec/schema.ts'
import { hardening } from './hardening.ts'
import type { Artefact } from './index.ts'
import { execLine, formatUnit, quoteWord } from './systemd.ts'
import type { RenderEnv, RenderedFile } from './types.ts'

/** Account and group of the Redis server; xo-server joins the group to reach the socket. */
export const REDIS_ACCOUNT = 'redis-xo'
export const REDIS_CONFIG = '/etc/xoa/redis-xo.conf'

/** Redis' config syntax: arguments with spaces or quotes are double-quoted with C escapes. */
function redisArg(s: string): string {
  return /^[^\s"'\\]+$/.test(s) ? s : `"${s.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`
}

export function renderRedisConfig(spec: Spec): RenderedFile {
  const r = spec.redis
  const lines = [
    '# Managed by xoa: the dedicated Redis of xo-server (redis-xo.service). Edit the spec, not this file.',
    '',
    '# Unix socket only: no TCP listener at all. The socket is group-accessible; xo-server joins the group.',
    'port 0',
    `unixsocket ${redisArg(r.socket)}`,
    'unixsocketperm 660',
    '',
    '# systemd supervises it (Type=notify): no daemonizing, logs to the journal.',
    'daemonize no',
    'supervised systemd',
    'logfile ""',
    '',
    '# Primary database of XO: persist every second and never evict a key.',
    `dir ${redisArg(r.dir)}`,
    'appendonly yes',
    'appendfsync everysec',
    `maxmemory ${r.maxmemory}`,
    'maxmemory-policy noeviction',
    '',
    '# Protected defaults, stated explicitly: no runtime changes to protected configs, no DEBUG, no modules.',
    'protected-mode yes',
    'enable-protected-configs no',
    'enable-debug-command no',
    'enable-module-command no',
    '',
  ]
  return {
    path: REDIS_CONFIG,
    content: lines.join('\n'),
    mode: 0o644,
    owner: 'root',
    group: 'root',
    validate: 'redis',
  }
}

/** A directory systemd can create and own for the service, relative to its base (/run or /var/lib). */
function managedDir(path: string, base: string): string | undefined {
  return path.startsWith(`${base}/`) ? path.slice(base.length + 1) : undefined
}

export function renderRedisUnit(spec: Spec, env: RenderEnv): RenderedFile {
  const socketDir = dirname(spec.redis.socket)
  const runtimeDir = managedDir(socketDir, '/run')
  const stateDir = managedDir(spec.redis.dir, '/var/lib')
  const dirs = [
    ...(runtimeDir
      ? [
          { comment: 'Socket directory: traversable by the redis-xo group only (xo-server joins it).' },
          ['RuntimeDirectory', quoteWord(runtimeDir)] as const,
          ['RuntimeDirectoryMode', '0750'] as const,
        ]
      : []),
    ...(stateDir
      ? [['StateDirectory', quoteWord(stateDir)] as const, ['StateDirectoryMode', '0700'] as const]
      : []),
  ]
  const writable = [...(runtimeDir ? [] : [socketDir]), ...(stateDir ? [] : [spec.redis.dir])]
  const content = formatUnit([
    [
      'Unit',
      [
        ['Description', 'Redis for Xen Orchestra (Unix socket only)'],
        ['Documentation', 'man:redis-server(1)'],
      ],
    ],
    [
      'Service',
      [
        ['Type', 'notify'],
        ['ExecStart', execLine([toolPath(env.platform, 'redis-server'), REDIS_CONFIG])],
        ['User', REDIS_ACCOUNT],
        ['Group', REDIS_ACCOUNT],
        ...dirs,
        ['Restart', 'on-failure'],
        ['LimitNOFILE', 10032],
        ...hardening({
          readWritePaths: writable,
          addressFamilies: ['AF_UNIX'],
          privateNetwork: true,
          // Its data is private to the redis-xo account.
          umask: '0077',
          extra: [['PrivateUsers', true]],
        }),
      ],
    ],
    ['Install', [['WantedBy', 'multi-user.target']]],
  ])
  return { path: '/etc/systemd/system/redis-xo.service', content, ...unitFileMeta }
}

export const unitFileMeta = { mode: 0o644, owner: 'root', group: 'root', validate: 'systemd-unit' } as const

export const redisConfigArtefact: Artefact = {
  name: 'redis-xo.conf',
  description: 'configuration of the dedicated Redis (socket only, AOF everysec, noeviction)',
  render: (spec) => [renderRedisConfig(spec)],
}

export const redisUnitArtefact: Artefact = {
  name: 'redis-xo.service',
  description: 'systemd unit of the dedicated Redis, as its own account redis-xo',
  render: (spec, env) => [renderRedisUnit(spec, env)],
}
