// A host in a temp dir for backup tests: a real Redis holding what XO keeps, xo-server's config (under
// XOA_TEST_ROOT/etc/xo-server with the xo-server unit there, as apply leaves it; or under the state dir, as
// `xoa up` does), secrets, a current release with its pin, and a LevelDB-like data dir owned by the service
// account (`nobody` here, so attack tests can act as it). Owners and modes are xoa's own.
import { createHash } from 'node:crypto'
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { join, relative } from 'node:path'
import { tempDir } from '../helpers.ts'
import { startRedis, withDb } from './redis-server.ts'

/** The service account of the test hosts. */
export const SERVICE = { user: 'nobody', group: 'nogroup', uid: 65534, gid: 65534 }

export interface TestHost {
  dir: string
  socket: string
  specFile: string
  env: NodeJS.ProcessEnv
  configDir: string
  secretsDir: string
  dataDir: string
  backupsDir: string
  mode: 'systemd' | 'foreground'
}

export interface HostOptions {
  keepBackups?: number
  /** systemd (default): config in /etc/xo-server; foreground: where `xoa up` keeps it. */
  mode?: 'systemd' | 'foreground'
}

export async function makeHost(
  t: { after(fn: () => unknown): void },
  opts: HostOptions | number = {},
): Promise<TestHost> {
  const { keepBackups = 5, mode = 'systemd' } = typeof opts === 'number' ? { keepBackups: opts } : opts
  const dir = tempDir(t, 'xoa-backup-')
  chmodSync(dir, 0o755) // the service account reaches its data dir, as on a host
  const { socket, dir: redisDir } = await startRedis(t)
  const state = join(dir, 'state')
  const root = join(dir, 'root')
  const h: TestHost = {
    dir,
    socket,
    specFile: join(dir, 'xoa.json'),
    env: { XOA_TEST_ROOT: root },
    configDir:
      mode === 'systemd' ? join(root, 'etc', 'xo-server') : join(state, 'home', '.config', 'xo-server'),
    secretsDir: join(state, 'secrets'),
    dataDir: join(dir, 'data'),
    backupsDir: join(state, 'backups'),
    mode,
  }
  const spec = {
    xo: { stateDir: state, dataDir: h.dataDir, tempDir: join(dir, 'tmp'), mountsDir: join(dir, 'mounts') },
    service: { user: SERVICE.user, group: SERVICE.group },
    redis: { socket, dir: redisDir },
    updates: { keepBackups },
  }
  writeFileSync(h.specFile, JSON.stringify(spec))

  mkdirSync(state, { mode: 0o755 })
  mkdirSync(h.configDir, { recursive: true })
  if (mode === 'systemd') {
    mkdirSync(join(root, 'etc', 'systemd', 'system'), { recursive: true })
    writeFileSync(join(root, 'etc', 'systemd', 'system', 'xo-server.service'), '[Service]\n')
  }
  // As apply (root:group 0750/0640) or `xoa up` (the service's, 0700/0640/0600) leaves them.
  const cfgOwner = mode === 'systemd' ? [0, SERVICE.gid] : [SERVICE.uid, SERVICE.gid]
  chmodSync(h.configDir, mode === 'systemd' ? 0o750 : 0o700)
  chownSync(h.configDir, cfgOwner[0]!, cfgOwner[1]!)
  const cfg = (name: string, text: string, m: number) => {
    writeFileSync(join(h.configDir, name), text, { mode: m })
    chmodSync(join(h.configDir, name), m)
    chownSync(join(h.configDir, name), cfgOwner[0]!, cfgOwner[1]!)
  }
  cfg('config.toml', "[redis]\nsocket = '/run/redis-xo/redis.sock'\n", 0o640)
  cfg('config.z-secrets.toml', "[http]\nsessionSecret = 's3cr3t'\n", mode === 'systemd' ? 0o640 : 0o600)
  mkdirSync(h.secretsDir, { recursive: true, mode: 0o700 })
  writeFileSync(join(h.secretsDir, 'admin-password'), 'correct horse battery staple\n', { mode: 0o600 })

  const release = join(state, 'releases', '6.7.1-40dede9e11-abc')
  mkdirSync(release, { recursive: true })
  const rev = '40dede9e11c90562df5cb46c6a83a9d91efedae1'
  writeFileSync(
    join(release, 'manifest.json'),
    JSON.stringify({ id: '6.7.1-40dede9e11-abc', version: '6.7.1', rev, url: 'https://example.org/xo.git' }),
  )
  writeFileSync(
    join(release, 'xo-source.json'),
    JSON.stringify({ url: 'https://example.org/xo.git', rev, version: '6.7.1' }),
  )
  symlinkSync(release, join(state, 'current'))

  const leveldb = join(h.dataDir, 'leveldb')
  mkdirSync(leveldb, { recursive: true })
  writeFileSync(join(leveldb, 'CURRENT'), 'MANIFEST-000004\n')
  writeFileSync(join(leveldb, 'MANIFEST-000004'), Buffer.from([0, 1, 2, 3, 255]))
  // big enough that the backup takes a moment, so the watcher sees its temporary files
  writeFileSync(join(leveldb, '000005.ldb'), Buffer.alloc(2 << 20, 7))
  writeFileSync(join(leveldb, '000006.log'), 'tasks and logs')
  giveToService(h.dataDir)

  await fillRedis(socket)
  return h
}

/** chown -R to the service account with xo-server's modes (dirs 0750, files 0640), as restore leaves them. */
export function giveToService(path: string): void {
  const st = lstatSync(path)
  chownSync(path, SERVICE.uid, SERVICE.gid)
  chmodSync(path, st.isDirectory() ? 0o750 : 0o640)
  if (st.isDirectory()) for (const n of readdirSync(path)) giveToService(join(path, n))
}

/** The shapes XO keeps in Redis (XO-FACTS.md): users, servers with passwords, remotes with credentials. */
export async function fillRedis(socket: string): Promise<void> {
  await withDb(socket, 0, async (c) => {
    await c.sAdd('xo:user_ids', ['u1', 'u2'])
    await c.hSet('xo:user:u1', {
      email: 'admin@xoa.local',
      pw_hash: '$argon2id$v=19$m=65536$abc',
      permission: 'admin',
    })
    await c.hSet('xo:user:u2', {
      email: 'ops@example.org',
      pw_hash: '$argon2id$v=19$m=65536$def',
      permission: 'none',
    })
    await c.sAdd('xo:server_ids', ['s1'])
    await c.hSet('xo:server:s1', { host: '10.0.0.2', username: 'root', password: 'xcp-ng-root-password' })
    await c.sAdd('xo:remote_ids', ['r1'])
    await c.hSet('xo:remote:r1', {
      name: 'nas',
      url: 'smb://backup:SmbPa55@nas\\\\share/xo',
      enabled: 'true',
    })
    await c.set('xo:token:abc123', JSON.stringify({ user_id: 'u1' }))
    await c.pExpire('xo:token:abc123', 3_600_000)
    await c.set('xo:plain', 'a string')
    await c.rPush('xo:log', ['first', 'second', 'third'])
    await c.zAdd('xo:scores', [
      { score: 1.5, value: 'a' },
      { score: -2, value: 'b' },
    ])
    await c.sendCommand(['SET', Buffer.from([0xff, 0x00, 0x01]), Buffer.from([0xde, 0xad, 0xbe, 0xef])])
  })
  await withDb(socket, 3, (c) => c.set('other-db', 'kept too'))
}

/** Path → [mode, owner, content or link target] of every entry under `dir`. */
export function tree(dir: string): Record<string, [string, string, string]> {
  const out: Record<string, [string, string, string]> = {}
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name)
      const st = lstatSync(p)
      const mode = (st.mode & 0o7777).toString(8)
      const owner = `${st.uid}:${st.gid}`
      if (st.isDirectory()) {
        out[relative(dir, p)] = [mode, owner, 'dir']
        walk(p)
      } else if (st.isSymbolicLink()) out[relative(dir, p)] = [mode, owner, `-> ${readlinkSync(p)}`]
      else out[relative(dir, p)] = [mode, owner, createHash('sha256').update(readFileSync(p)).digest('hex')]
    }
  }
  walk(dir)
  return out
}

export function hostFiles(h: TestHost) {
  const root = (p: string) => {
    const st = statSync(p)
    return `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`
  }
  return {
    config: tree(h.configDir),
    configRoot: root(h.configDir),
    // the backup key is the host's, made by the first backup and never archived: compared apart
    secrets: Object.fromEntries(Object.entries(tree(h.secretsDir)).filter(([k]) => k !== 'backup-key')),
    secretsRoot: root(h.secretsDir),
    data: tree(h.dataDir),
    dataRoot: root(h.dataDir),
  }
}
