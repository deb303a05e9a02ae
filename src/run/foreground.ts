// The files and directories `xoa up` needs, kept under the state dir so a container needs one volume:
// xo-server's config (XDG_CONFIG_HOME/xo-server/config.toml + config.z-secrets.toml) and redis-xo.conf.
import { randomBytes } from 'node:crypto'
import { chmodSync, chownSync, lstatSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { XoaError } from '../cli/errors.ts'
import { renderSudoShim } from '../render/broker.ts'
import { renderRedisConfig } from '../render/redis.ts'
import { renderXoServerConfig, renderXoServerSecrets } from '../render/xo-server-config.ts'
import { statePaths } from '../spec/paths.ts'
import type { Spec } from '../spec/schema.ts'

export interface Account {
  uid?: number
  gid?: number
}

export interface ForegroundFiles {
  configDir: string
  redisConfig: string
}

function ensureDir(path: string, mode: number, owner: Account): void {
  mkdirSync(path, { recursive: true, mode })
  if (owner.uid !== undefined) chownSync(path, owner.uid, owner.gid ?? owner.uid)
}

/**
 * The broker mounts only below a mountsDir that root owns, sticky and open to the service group (as `xoa apply`
 * makes it): its owner could otherwise swap what is below it. Without the broker, xo-server mounts (or not) as
 * itself and owns the directory.
 */
function ensureMountsDir(spec: Spec, owner: Account): void {
  const dir = spec.xo.mountsDir
  if (spec.mounts.mode !== 'broker' || process.getuid?.() !== 0 || owner.gid === undefined) {
    ensureDir(dir, 0o750, owner)
    return
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  if (!lstatSync(dir).isDirectory())
    throw new XoaError(`${dir} (xo.mountsDir) is not a directory`, { hint: 'remove it, then xoa up again' })
  chownSync(dir, 0, owner.gid)
  chmodSync(dir, 0o1770)
}

function writeAtomic(path: string, content: string, mode: number, owner: Account): void {
  const tmp = join(dirname(path), `.${process.pid}.tmp`)
  writeFileSync(tmp, content, { mode })
  if (owner.uid !== undefined) chownSync(tmp, owner.uid, owner.gid ?? owner.uid)
  renameSync(tmp, path)
}

function readIfPresent(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

/** Create the directories and write the configuration; the session secret is generated once and kept. */
export function prepareForeground(spec: Spec, owner: Account): ForegroundFiles {
  const p = statePaths(spec)
  ensureDir(spec.xo.stateDir, 0o755, {})
  for (const d of [spec.xo.dataDir, spec.xo.tempDir, spec.redis.dir, dirname(spec.redis.socket)])
    ensureDir(d, 0o750, owner)
  ensureMountsDir(spec, owner)
  ensureDir(dirname(p.serverConfigHome), 0o750, owner)
  const configDir = join(p.serverConfigHome, 'xo-server')
  ensureDir(p.serverConfigHome, 0o700, owner)
  ensureDir(configDir, 0o700, owner)
  ensureDir(p.secrets, 0o700, {})

  writeAtomic(join(configDir, 'config.toml'), renderXoServerConfig(spec).content, 0o640, owner)
  const secrets = join(configDir, 'config.z-secrets.toml')
  if (readIfPresent(secrets) === undefined)
    writeAtomic(
      secrets,
      renderXoServerSecrets(randomBytes(32).toString('base64url'), spec).content,
      0o600,
      owner,
    )

  // Broker mode as root: xo-server's `sudo` is the shim, calling back into this very xoa.
  if (spec.mounts.mode === 'broker' && process.getuid?.() === 0) {
    const shim = renderSudoShim(spec, { xoaCommand: [process.execPath, process.argv[1]!], specPath: '' })
    ensureDir(dirname(shim.path), 0o755, {})
    writeAtomic(shim.path, shim.content, shim.mode, {})
  }

  const redisConfig = join(spec.xo.stateDir, 'up', 'redis-xo.conf')
  ensureDir(dirname(redisConfig), 0o755, {})
  writeAtomic(redisConfig, renderRedisConfig(spec).content, 0o644, {})
  return { configDir, redisConfig }
}
