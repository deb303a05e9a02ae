// The files and directories `xoa up` needs, kept under the state dir so a container needs one volume:
// xo-server's config (XDG_CONFIG_HOME/xo-server/config.toml) and redis-xo.conf.
import { basename, dirname } from 'node:path'
import { openLive, self, writeFileAt } from '../fs/at.ts'
import type { Meta } from '../fs/safe-dir.ts'
import { hostLayout } from '../host/layout.ts'
import { currentPlatform } from '../platform/load.ts'
import { renderCifsProbe, renderSudoShim } from '../render/broker.ts'
import { renderRedisConfig } from '../render/redis.ts'
import { renderXoServerConfig } from '../render/xo-server-config.ts'
import type { Spec } from '../spec/schema.ts'

export interface Account {
  uid?: number
  gid?: number
}

export interface ForegroundFiles {
  configDir: string
  redisConfig: string
}

function metaOf(mode: number, owner: Account): Meta {
  const me = self(mode)
  return { uid: owner.uid ?? me.uid, gid: owner.gid ?? owner.uid ?? me.gid, mode }
}

/** The directory, created (parents too) with this mode and owner; an existing one only gets the owner, the
 *  way `mkdir -p` + chown did, but on the checked inode: a symlink planted there is refused, not chowned. */
async function ensureDir(path: string, mode: number, owner: Account): Promise<void> {
  const meta = metaOf(mode, owner)
  // Missing parents are this process's, as `mkdir -p` made them; only the directory itself gets the owner.
  const parent = await openLive(dirname(path), { create: self(mode) })
  try {
    const name = basename(path)
    await (await parent.subdir(name, { create: meta })).close()
    const st = await parent.lstat(name)
    if (owner.uid !== undefined && st) await parent.setMeta(name, { ...meta, mode: st.mode & 0o7777 })
  } finally {
    await parent.close()
  }
}

/**
 * The broker mounts only below a mountsDir that root owns, sticky and open to the service group (as `xoa apply`
 * makes it, whatever mounts.mode says): its owner could otherwise swap what is below it. Run as another user,
 * `xoa up` has no broker and that user owns the directory.
 */
async function ensureMountsDir(spec: Spec, owner: Account): Promise<void> {
  const dir = spec.xo.mountsDir
  if (process.getuid?.() !== 0 || owner.gid === undefined) {
    await ensureDir(dir, 0o750, owner)
    return
  }
  const meta = { uid: 0, gid: owner.gid, mode: 0o1770 }
  const parent = await openLive(dirname(dir), { create: self(0o755) })
  try {
    // A file or symlink there is refused (xo.mountsDir must be a real directory), never chowned through.
    await (await parent.subdir(basename(dir), { create: meta })).close()
    await parent.setMeta(basename(dir), meta)
  } finally {
    await parent.close()
  }
}

async function writeAtomic(path: string, content: string, mode: number, owner: Account): Promise<void> {
  await writeFileAt(path, content, metaOf(mode, owner))
}

/** Create the directories and write the configuration (the secrets are bootstrap's, which `xoa up` runs next). */
export async function prepareForeground(spec: Spec, owner: Account): Promise<ForegroundFiles> {
  const layout = hostLayout(spec, 'foreground')
  const p = layout.state
  await ensureDir(spec.xo.stateDir, 0o755, {})
  for (const d of [spec.xo.dataDir, spec.xo.tempDir, spec.redis.dir, dirname(spec.redis.socket)])
    await ensureDir(d, 0o750, owner)
  await ensureMountsDir(spec, owner)
  await ensureDir(dirname(p.serverConfigHome), 0o750, owner)
  const configDir = layout.xoConfigDir
  await ensureDir(p.serverConfigHome, 0o700, owner)
  await ensureDir(configDir, 0o700, owner)
  await ensureDir(p.secrets, 0o700, {})

  await writeAtomic(layout.xoConfig, renderXoServerConfig(spec).content, 0o640, owner)
  // config.z-secrets.toml (session secret, xo.settings from files) is bootstrap's: src/run/secrets.ts.

  // Broker mode as root: xo-server's `sudo` is the shim, calling back into this very xoa.
  if (spec.mounts.mode === 'broker' && process.getuid?.() === 0) {
    const env = {
      xoaCommand: [process.execPath, process.argv[1]!],
      specPath: '',
      platform: currentPlatform(),
    }
    for (const shim of [renderSudoShim(spec, env), renderCifsProbe(spec, env)]) {
      await ensureDir(dirname(shim.path), 0o755, {})
      await writeAtomic(shim.path, shim.content, shim.mode, {})
    }
  }

  const redisConfig = layout.redis.config
  await ensureDir(dirname(redisConfig), 0o755, {})
  await writeAtomic(redisConfig, renderRedisConfig(spec).content, 0o644, {})
  return { configDir, redisConfig }
}
