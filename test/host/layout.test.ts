// Where things live, per way of running (src/host/layout.ts): the paths of each mode, and `xoa up`'s files
// written exactly where the layout says — the place status, doctor and the docs read them from.
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { hostLayout, lockFiles, modeOf } from '../../src/host/layout.ts'
import { prepareForeground } from '../../src/run/foreground.ts'
import { ensureSecrets } from '../../src/run/secrets.ts'
import { validateSpec } from '../../src/spec/load.ts'
import { hostMode, serverConfigDir, serverConfigFiles } from '../../src/status/paths.ts'
import { tempDir } from '../helpers.ts'

test('systemd, nixos, foreground: config, secrets, redis config, locks', () => {
  const spec = validateSpec({})
  const sd = hostLayout(spec, 'systemd')
  assert.deepEqual(
    [sd.xoConfigDir, sd.xoConfig, sd.xoSecrets, sd.redis.config, sd.unitFile, sd.envFile],
    [
      '/etc/xo-server',
      '/etc/xo-server/config.toml',
      '/etc/xo-server/config.z-secrets.toml',
      '/etc/xoa/redis-xo.conf',
      '/etc/systemd/system/xo-server.service',
      '/etc/xoa/xo-server.env',
    ],
  )
  const nix = hostLayout(spec, 'nixos')
  assert.equal(nix.xoConfig, '/etc/xo-server/config.toml')
  assert.equal(
    nix.xoSecrets,
    '/var/lib/xo/home/.config/xo-server/config.z-secrets.toml',
    "bootstrap writes it under the state dir: NixOS's /etc/xo-server is the store's",
  )
  const fg = hostLayout(spec, 'foreground')
  assert.deepEqual(
    [fg.xoConfigDir, fg.xoConfig, fg.xoSecrets, fg.redis.config, fg.unitFile],
    [
      '/var/lib/xo/home/.config/xo-server',
      '/var/lib/xo/home/.config/xo-server/config.toml',
      '/var/lib/xo/home/.config/xo-server/config.z-secrets.toml',
      '/var/lib/xo/up/redis-xo.conf',
      undefined,
    ],
  )
  for (const l of [sd, nix, fg]) {
    assert.deepEqual(l.locks, { store: '/var/lib/xo/releases/.lock', upgrade: '/var/lib/xo/upgrade.lock' })
    assert.equal(l.redis.socket, spec.redis.socket)
    assert.equal(l.xoConfigHome, '/var/lib/xo/home/.config')
  }
  assert.deepEqual(lockFiles(spec), sd.locks)
  assert.equal(modeOf({ nixos: true, unitInstalled: true }), 'nixos')
  assert.equal(
    modeOf({ nixos: true, unitInstalled: false }),
    'foreground',
    '`xoa up` on NixOS without the module',
  )
  assert.equal(modeOf({ nixos: false, unitInstalled: true }), 'systemd')
  assert.equal(modeOf({ nixos: false, unitInstalled: false }), 'foreground')
})

test('xoa up writes its config, redis-xo.conf and (bootstrap) the secrets where the foreground layout says', async (t) => {
  const root = tempDir(t, 'xoa-layout-')
  const spec = validateSpec({
    xo: {
      stateDir: join(root, 'state'),
      dataDir: join(root, 'data'),
      tempDir: join(root, 'tmp'),
      mountsDir: join(root, 'mounts'),
    },
    redis: { socket: join(root, 'run', 'redis.sock'), dir: join(root, 'redis') },
    mounts: { mode: 'none' },
    service: { user: 'nobody', group: 'nogroup' },
  })
  const l = hostLayout(spec, 'foreground')
  const files = await prepareForeground(spec, {})
  assert.equal(existsSync(l.xoSecrets), false, 'prepareForeground writes no secret: bootstrap does')
  await ensureSecrets(spec, 'foreground')
  assert.equal(files.configDir, l.xoConfigDir)
  assert.equal(files.redisConfig, l.redis.config)
  for (const f of [l.xoConfig, l.xoSecrets, l.redis.config]) assert.ok(existsSync(f), f)
  // Root: root:<service group> 0640, as on a systemd host; anyone else owns its own, 0600.
  assert.equal(statSync(l.xoSecrets).mode & 0o777, process.getuid?.() === 0 ? 0o640 : 0o600)
})

test('the old names (status/paths.ts) answer from the layout', (t) => {
  const spec = validateSpec({})
  assert.deepEqual(serverConfigFiles(spec, 'foreground'), {
    config: hostLayout(spec, 'foreground').xoConfig,
    secrets: hostLayout(spec, 'foreground').xoSecrets,
  })
  assert.equal(serverConfigDir(spec, 'systemd'), '/etc/xo-server')
  const root = tempDir(t, 'xoa-layout-mode-')
  const at = (p: string) => join(root, p)
  assert.equal(hostMode(at), 'foreground')
  mkdirSync(at('/etc/systemd/system'), { recursive: true })
  writeFileSync(at('/etc/systemd/system/xo-server.service'), '')
  assert.equal(hostMode(at), 'systemd')
  writeFileSync(at('/etc/NIXOS'), '')
  assert.equal(hostMode(at), 'nixos')
})
