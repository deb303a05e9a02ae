// Setuid/setgid bits in a build. Some npm tarballs XO depends on set them on install
// (fuse-shared-library-linux chmods libfuse/scripts/init_script.sh to 6775), so the build may create them, but
// a release never keeps one: nothing in a release may ever run with privileges it was not started with.
import { readFileSync, readlinkSync, realpathSync } from 'node:fs'
import { execa } from 'execa'
import { resolveTools } from '../mount/tools.ts'
import { XoaError } from '../util/errors.ts'

/** Files (never symlinks: their mode means nothing) under `dir` with a setuid or setgid bit. */
export async function setidFiles(dir: string): Promise<string[]> {
  const r = await execa('find', [dir, '!', '-type', 'l', '-perm', '/6000', '-print0'])
  return r.stdout.split('\0').filter((p) => p !== '')
}

/** Clear every setuid/setgid bit under `dir`, then check that none is left: sealing fails otherwise. */
export async function stripSetid(dir: string): Promise<string[]> {
  const found = await setidFiles(dir)
  // chmod on a path find just listed: a directory's setgid bit goes too (GNU chmod clears it with `g-s`).
  for (let i = 0; i < found.length; i += 500) await execa('chmod', ['ug-s', '--', ...found.slice(i, i + 500)])
  const left = await setidFiles(dir)
  if (left.length > 0)
    throw new XoaError(
      `setuid/setgid bits could not be cleared in the release: ${left.slice(0, 5).join(', ')}`,
      {
        hint: 'a release must carry no setuid/setgid file; check the file system of the state dir',
      },
    )
  return found
}

/**
 * Whether this process has a mount namespace of its own, as systemd gives xo-build.service: the unit says so
 * with XOA_PRIVATE_MOUNTS=1, and it is checked against the namespace of whoever started us (systemd, pid 1,
 * for a unit). A mount made there goes away with the process and is never seen by the host.
 */
export function inPrivateMountNamespace(): boolean {
  if (process.env.XOA_PRIVATE_MOUNTS !== '1' || process.getuid?.() !== 0) return false
  try {
    return readlinkSync('/proc/self/ns/mnt') !== readlinkSync(`/proc/${process.ppid}/ns/mnt`)
  } catch {
    return false
  }
}

/**
 * Bind-mount `dir` over itself nosuid (in a private mount namespace only), so a setuid file a dependency
 * creates during the build has no effect there even before sealing strips it.
 */
export async function mountNosuid(dir: string): Promise<boolean> {
  if (!inPrivateMountNamespace()) return false
  const bin = resolveTools().mount // the platform's, as the broker's
  const mount = async (args: string[]) => {
    const r = await execa(bin, args, { reject: false, all: true })
    if (r.exitCode !== 0)
      throw new XoaError(`could not mount ${dir} nosuid: ${(r.all ?? '').trim()}`, {
        hint: 'xo-build.service needs SystemCallFilter=@mount (run `xoa apply` to render it again)',
      })
  }
  // Private propagation first: nothing mounted here may reach another namespace.
  await mount(['--bind', dir, dir])
  await mount(['--make-private', dir])
  // A bind remount sets the per-mount flags to exactly those given: keep the ones it has (ro, noexec…).
  const keep = mountFlags(readFileSync('/proc/self/mountinfo', 'utf8'), realpathSync(dir))
  await mount(['-o', ['remount', 'bind', ...keep, 'nosuid', 'nodev'].join(','), dir])
  return true
}

const PER_MOUNT = new Set(['ro', 'rw', 'noexec', 'noatime', 'nodiratime', 'relatime', 'strictatime'])

/** Pure: the per-mount flags of the topmost mount on `dir` in a mountinfo text (none when not a mount point). */
export function mountFlags(mountinfo: string, dir: string): string[] {
  const unoctal = (s: string) =>
    s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)))
  const top = mountinfo
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f[4] !== undefined && unoctal(f[4]) === dir)
    .at(-1)
  return (top?.[5] ?? '').split(',').filter((o) => PER_MOUNT.has(o))
}
