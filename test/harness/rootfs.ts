// A cached Debian 12 rootfs for the nspawn harness: built once with debootstrap, reused read-only by every boot.
// Built in a temp dir and renamed into place, so a killed build never leaves a half rootfs that looks complete.
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { REPO } from '../helpers.ts'

export const SUITE = 'bookworm'

/**
 * What a fresh minimal Debian 12 server has: debootstrap's minbase plus an init. Nothing `xoa apply` installs
 * (no sudo, openssh-server, redis-server, git, ca-certificates…) and no test-only tool (no curl, procps,
 * iproute2): the tests check from inside with the bound-in host Node, so the product meets exactly what a new
 * user's machine offers. Changing this list changes the cache key.
 */
export const ROOTFS_PACKAGES = ['systemd', 'systemd-sysv', 'dbus']

/**
 * Units a container cannot run at all, masked before anything installs them (a mask holds for a unit that is
 * not there yet, so apt's postinst never starts it). Never a unit `xoa apply` is responsible for.
 */
const MASKED_UNITS = [
  // lvm2 (apply installs it for file-level restore): dmeventd needs the host kernel's device-mapper control,
  // which a container does not get; the unit fails and the system reads "degraded".
  'lvm2-monitor.service',
  // nfs-common (apply installs it for NFS remotes): rpc_pipefs is a kernel filesystem a container cannot
  // mount; the NFS client needs it only for Kerberos.
  'run-rpc_pipefs.mount',
]

/** Bump when the post-debootstrap customisation below changes, so caches rebuild. */
const RECIPE_VERSION = 3

export function rootfsKey(packages = ROOTFS_PACKAGES): string {
  const h = createHash('sha256')
  h.update(
    JSON.stringify({ suite: SUITE, variant: 'minbase', packages, masked: MASKED_UNITS, RECIPE_VERSION }),
  )
  return `${SUITE}-${h.digest('hex').slice(0, 12)}`
}

export function cacheRoot(): string {
  return process.env.XOA_NSPAWN_CACHE ?? join(REPO, '.cache', 'nspawn')
}

/**
 * The Debian mirror this machine already uses, from its apt sources: never a hard-coded host.
 * deb822 `URIs:` first (Debian 12), then a one-line `deb URL bookworm` entry.
 */
export function debianMirror(
  files = ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list'],
): string | undefined {
  for (const f of files) {
    if (!existsSync(f)) continue
    const text = readFileSync(f, 'utf8')
    for (const stanza of text.split(/\n\s*\n/)) {
      const uris = /^URIs:\s*(\S+)/m.exec(stanza)
      const suites = /^Suites:\s*(.+)$/m.exec(stanza)
      if (uris && suites?.[1]?.split(/\s+/).includes(SUITE)) return uris[1]
    }
    const line = new RegExp(`^deb\\s+(?:\\[[^\\]]*\\]\\s+)?(\\S+)\\s+${SUITE}\\s`, 'm').exec(text)
    if (line) return line[1]
  }
  return undefined
}

export interface RootfsBuild {
  dir: string
  /** true when this call ran debootstrap; false when the cache was reused */
  built: boolean
  seconds: number
}

/**
 * The cached rootfs for the current package list, building it if absent. Concurrent callers (test files run
 * in parallel) wait on a lock instead of building twice.
 */
export async function ensureRootfs(opts: { log?: (line: string) => void } = {}): Promise<RootfsBuild> {
  const log = opts.log ?? (() => {})
  const root = cacheRoot()
  const dir = join(root, rootfsKey())
  const started = Date.now()
  if (isComplete(dir)) return { dir, built: false, seconds: 0 }
  mkdirSync(root, { recursive: true })
  const release = await lock(join(root, `${rootfsKey()}.lock`))
  try {
    if (isComplete(dir)) return { dir, built: false, seconds: (Date.now() - started) / 1000 }
    const mirror = debianMirror()
    if (!mirror) throw new Error('no Debian mirror: /etc/apt/sources.list.d/debian.sources has no URIs: line')
    const tmp = join(root, `.build-${rootfsKey()}-${process.pid}`)
    rmSync(tmp, { recursive: true, force: true })
    log(`debootstrap ${SUITE} into ${tmp} from ${mirror}`)
    const r = spawnSync(
      'debootstrap',
      ['--variant=minbase', `--include=${ROOTFS_PACKAGES.join(',')}`, SUITE, tmp, mirror],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    )
    if (r.status !== 0) {
      const logFile = join(tmp, 'debootstrap', 'debootstrap.log')
      const tail = existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-3000) : ''
      rmSync(tmp, { recursive: true, force: true })
      throw new Error(`debootstrap failed (exit ${r.status}):\n${r.stderr.slice(-3000)}\n${tail}`)
    }
    customise(tmp)
    writeFileSync(join(tmp, '.xoa-rootfs-complete'), `${rootfsKey()}\n`)
    rmSync(dir, { recursive: true, force: true })
    renameSync(tmp, dir)
    const seconds = (Date.now() - started) / 1000
    log(`rootfs ready in ${seconds.toFixed(0)} s: ${dir}`)
    return { dir, built: true, seconds }
  } finally {
    release()
  }
}

function isComplete(dir: string): boolean {
  return existsSync(join(dir, '.xoa-rootfs-complete'))
}

/** Make the image boot cleanly in a container and behave the same on every run. */
function customise(dir: string): void {
  for (const unit of MASKED_UNITS) {
    const r = spawnSync('systemctl', [`--root=${dir}`, 'mask', unit], { encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`systemctl --root mask ${unit}: ${r.stderr}`)
  }
  // An empty machine-id makes systemd generate a fresh one per boot of each copy; "uninitialized" would
  // trigger first-boot units. Each test's copy then gets its own id.
  writeFileSync(join(dir, 'etc', 'machine-id'), '')
  writeFileSync(join(dir, 'etc', 'hostname'), 'xoa-test\n')
  mkdirSync(join(dir, 'opt', 'xoa-src'), { recursive: true })
  mkdirSync(join(dir, 'opt', 'node', 'bin'), { recursive: true })
  rmSync(join(dir, 'var', 'cache', 'apt', 'archives'), { recursive: true, force: true })
  mkdirSync(join(dir, 'var', 'cache', 'apt', 'archives', 'partial'), { recursive: true })
}

/** A lock file held by a live PID; stale locks (a killed run) are taken over. */
async function lock(file: string): Promise<() => void> {
  for (;;) {
    try {
      const fd = openSync(file, 'wx')
      writeFileSync(fd, String(process.pid))
      closeSync(fd)
      return () => rmSync(file, { force: true })
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
      const holder = Number(readFileSync(file, 'utf8').trim())
      // An empty file is a holder between create and write: wait rather than steal it.
      if (holder && !alive(holder)) {
        rmSync(file, { force: true })
        continue
      }
      await new Promise((r) => setTimeout(r, 2000))
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
