// Podman for the container-image tests, as it works on this kind of machine (docs/testing.md): as root, runc
// (crun refuses the hybrid cgroup layout), no rlimit raised (a containers.conf of the test's own with
// `default_ulimits = []`, never /etc's), no registry: the base image is the nspawn harness's debootstrap
// rootfs, imported once per rootfs key.
import { spawnSync } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { type ExecResult, type RunOptions, run } from './proc.ts'

export { processTree } from './proc.ts'

import { cacheRoot, debianMirror, ensureRootfs, rootfsKey } from './rootfs.ts'

export function podmanSkipReason(): string | undefined {
  for (const flag of ['XOA_SKIP_PODMAN', 'XOA_SKIP_NSPAWN'])
    if (process.env[flag] === '1') return `${flag}=1 is set`
  if (process.platform !== 'linux') return 'podman needs Linux'
  if (process.getuid?.() !== 0) return 'needs root (podman with runc here); CI runs as root'
  for (const tool of ['podman', 'runc', 'debootstrap'])
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
      return `${tool} is not installed (scripts/setup.sh --dev installs it)`
  const cached = existsSync(join(cacheRoot(), rootfsKey(), '.xoa-rootfs-complete'))
  if (!cached && !debianMirror()) return 'no Debian mirror in /etc/apt/sources.list.d/debian.sources'
  return undefined
}

export interface Podman {
  /** `podman ARGS` to completion with the test's containers.conf; never rejects on a non-zero exit. */
  run(args: string[], opts?: RunOptions): Promise<ExecResult>
  /** The same, throwing with podman's output on a non-zero exit; resolves with stdout. */
  ok(args: string[], opts?: RunOptions): Promise<string>
  env: NodeJS.ProcessEnv
}

/** `dir`: a temp dir of the test's, for its containers.conf. */
export function podman(dir: string): Podman {
  const conf = join(dir, 'containers.conf')
  // The sandbox forbids raising rlimits, which podman does for every container by default.
  writeFileSync(conf, '[containers]\ndefault_ulimits = []\n')
  const env = { ...process.env, CONTAINERS_CONF: conf }
  const p: Podman = {
    env,
    run: (args, opts = {}) => run(['podman', ...args], { ...opts, env }),
    async ok(args, opts) {
      const r = await p.run(args, opts)
      if (r.status !== 0)
        throw new Error(`podman ${args.join(' ')} exited ${r.status}:\n${r.stderr.slice(-4000)}`)
      return r.stdout
    },
  }
  return p
}

/** The runtime flags every `podman run`/`create` here needs. */
export const RUN_FLAGS = ['--runtime', 'runc', '--ulimit', 'host']

/** A Debian 12 base image made from the debootstrap rootfs (no registry here); imported once per key. */
export async function baseImage(p: Podman, log: (l: string) => void = () => {}): Promise<string> {
  const name = `localhost/xoa-test-base:${rootfsKey()}`
  if ((await p.run(['image', 'exists', name])).status === 0) return name
  const { dir } = await ensureRootfs({ log })
  log(`podman import ${dir} as ${name}`)
  const r = spawnSync('sh', ['-c', 'tar -C "$1" -c . | podman import - "$2"', 'sh', dir, name], {
    env: p.env,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  })
  if (r.status !== 0) throw new Error(`podman import failed (exit ${r.status}): ${r.stderr}`)
  return name
}
