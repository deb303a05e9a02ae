// A host in a temp dir for backup tests: a real Redis holding what XO keeps, /etc/xo-server under
// XOA_TEST_ROOT, secrets, a current release with its pin, and a LevelDB-like data dir.
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from '../helpers.ts'
import { startRedis, withDb } from './redis-server.ts'

export interface TestHost {
  dir: string
  socket: string
  specFile: string
  env: NodeJS.ProcessEnv
  configDir: string
  secretsDir: string
  dataDir: string
  backupsDir: string
}

export async function makeHost(t: { after(fn: () => unknown): void }, keepBackups = 5): Promise<TestHost> {
  const dir = tempDir(t, 'xoa-backup-')
  const { socket, dir: redisDir } = await startRedis(t)
  const state = join(dir, 'state')
  const h: TestHost = {
    dir,
    socket,
    specFile: join(dir, 'xoa.json'),
    env: { XOA_TEST_ROOT: join(dir, 'root') },
    configDir: join(dir, 'root', 'etc', 'xo-server'),
    secretsDir: join(state, 'secrets'),
    dataDir: join(dir, 'data'),
    backupsDir: join(state, 'backups'),
  }
  const spec = {
    xo: { stateDir: state, dataDir: h.dataDir, tempDir: join(dir, 'tmp'), mountsDir: join(dir, 'mounts') },
    redis: { socket, dir: redisDir },
    updates: { keepBackups },
  }
  writeFileSync(h.specFile, JSON.stringify(spec))

  mkdirSync(h.configDir, { recursive: true })
  writeFileSync(join(h.configDir, 'config.toml'), "[redis]\nsocket = '/run/redis-xo/redis.sock'\n", {
    mode: 0o644,
  })
  writeFileSync(join(h.configDir, 'config.z-secrets.toml'), "[http]\nsessionSecret = 's3cr3t'\n", {
    mode: 0o600,
  })
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
  symlinkSync('leveldb/CURRENT', join(h.dataDir, 'current-link'))
  chmodSync(h.dataDir, 0o750)

  await fillRedis(socket)
  return h
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
