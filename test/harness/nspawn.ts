// A real Debian 12 systemd for tests: boot the cached rootfs in systemd-nspawn, drive it with nsenter.
// Each container gets its own copy-on-write root (overlayfs, else a copy), so tests never touch the cache.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { freePort, REPO } from '../helpers.ts'
import { shareHostNetworkConfig } from './host-network.ts'
import { type ExecResult, findContainerInit, type RunOptions, run, sleep } from './proc.ts'
import { cacheRoot, debianMirror, ensureRootfs, rootfsKey } from './rootfs.ts'

export type { ExecResult } from './proc.ts'
export { ensureRootfs } from './rootfs.ts'

/** Where the checkout and the host's Node appear inside every container. */
export const XOA_SRC = '/opt/xoa-src'
export const CONTAINER_NODE = '/opt/node/bin/node'
export const CONTAINER_XOA = `${XOA_SRC}/dist/xoa.mjs`
export const CONTAINER_NPM = '/opt/node/lib/node_modules/npm'

const CONTAINER_ENV = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  HOME: '/root',
  LANG: 'C.UTF-8',
  TERM: 'dumb',
  NO_COLOR: '1',
}

export interface Bind {
  host: string
  container: string
  readOnly?: boolean
}

export interface BootOptions {
  /**
   * `private` (default): the container has only its own loopback, so its sshd, Redis and xo-server ports never
   * clash with the host's or with another test's container. `host`: share the host's network (needed only when
   * something inside must download, e.g. a real XO build).
   */
  network?: 'private' | 'host'
  binds?: Bind[]
  /** Registers destroy() here so a failing test still powers off and cleans up. */
  t?: { after(fn: () => void | Promise<void>): void }
  log?: (line: string) => void
}

export interface SystemState {
  state: string
  failed: string[]
}

export interface Container {
  /** The container's / as seen from the host (write files into it before or while it runs). */
  readonly root: string
  /** Host PID of the container's systemd (changes on reboot). */
  readonly pid: number
  /** How its root was made: `overlay` (copy-on-write) or `copy`. */
  readonly layer: 'overlay' | 'copy'
  exec(argv: string[], opts?: RunOptions): Promise<ExecResult>
  /** `sh -c script` inside, for pipelines and redirections. */
  sh(script: string, opts?: RunOptions): Promise<ExecResult>
  /** Polls `systemctl is-system-running` until boot settles; throws unless it is `running`, naming failed units. */
  waitForSystem(opts?: { timeoutMs?: number; allowDegraded?: boolean }): Promise<SystemState>
  /** `systemctl reboot` inside, then boot the same root again: state on disk is kept. */
  reboot(): Promise<void>
  /** Orderly poweroff (kill fallback); the root stays for inspection until destroy(). */
  stop(): Promise<void>
  /** stop(), unmount the overlay and remove the per-container dir. */
  destroy(): Promise<void>
  /** What the container printed on its console (boot and shutdown messages). */
  consoleLog(): string
}

/** Why the nspawn suites cannot run here, or undefined when they can. */
export function nspawnSkipReason(): string | undefined {
  if (process.env.XOA_SKIP_NSPAWN === '1') return 'XOA_SKIP_NSPAWN=1 is set'
  if (process.platform !== 'linux') return 'systemd-nspawn needs Linux'
  if (process.getuid?.() !== 0) return 'needs root (systemd-nspawn, mount); CI runs as root'
  for (const tool of ['systemd-nspawn', 'nsenter', 'mount', 'debootstrap']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
      return `${tool} is not installed (scripts/setup.sh --dev installs it)`
    }
  }
  const cached = existsSync(join(cacheRoot(), rootfsKey(), '.xoa-rootfs-complete'))
  if (!cached && !debianMirror()) return 'no Debian mirror in /etc/apt/sources.list.d/debian.sources'
  return undefined
}

export async function bootContainer(opts: BootOptions = {}): Promise<Container> {
  const log = opts.log ?? (() => {})
  const { dir: rootfs } = await ensureRootfs({ log })
  const work = mkdtempSync(join(tmpdir(), 'xoa-nspawn-'))
  const root = join(work, 'root')
  mkdirSync(root)
  const layer = makeRoot(rootfs, work, root)
  const npm = hostNpm()
  installTools(root, npm !== undefined)
  if (opts.network === 'host') shareHostNetworkConfig(root, { ssh: await freePort() })
  const machine = `xoa-${process.pid}-${Math.random().toString(36).slice(2, 8)}`
  const binds: Bind[] = [
    { host: REPO, container: XOA_SRC, readOnly: true },
    { host: process.execPath, container: CONTAINER_NODE, readOnly: true },
    ...(npm ? [{ host: npm, container: CONTAINER_NPM, readOnly: true }] : []),
    ...(opts.binds ?? []),
  ]
  const args = [
    `--directory=${root}`,
    `--machine=${machine}`,
    '--register=no',
    '--keep-unit',
    '--boot',
    '--console=pipe',
    '--link-journal=no',
    '--resolv-conf=off',
    '--timezone=off',
    ...(opts.network === 'host' ? [] : ['--private-network']),
    ...binds.map((b) => `--bind${b.readOnly ? '-ro' : ''}=${b.host}:${b.container}`),
  ]
  const consoleFile = join(work, 'console.log')

  let nspawn: ChildProcess
  let exited: Promise<number>
  let pid = 0
  let destroyed = false

  async function start(): Promise<void> {
    const fd = openSync(consoleFile, 'a')
    nspawn = spawn('systemd-nspawn', args, { stdio: ['ignore', fd, fd] })
    closeSync(fd)
    const child = nspawn
    exited = new Promise((resolve) =>
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : -1))),
    )
    let code: number | undefined
    void exited.then((c) => {
      code = c
    })
    const deadline = Date.now() + 60_000
    for (;;) {
      const found = child.pid ? findContainerInit(child.pid) : undefined
      if (found) {
        pid = found
        log(`container ${machine} booting, systemd is host PID ${pid}`)
        return
      }
      if (code !== undefined) throw new Error(`systemd-nspawn exited ${code} before boot:\n${tail()}`)
      if (Date.now() > deadline) throw new Error(`no container init after 60 s:\n${tail()}`)
      await sleep(100)
    }
  }

  function tail(): string {
    return existsSync(consoleFile) ? readFileSync(consoleFile, 'utf8').slice(-4000) : ''
  }

  function exec(argv: string[], o: RunOptions = {}): Promise<ExecResult> {
    const env = Object.entries({ ...CONTAINER_ENV, ...o.env }).map(([k, v]) => `${k}=${v}`)
    return run(['nsenter', '-t', String(pid), '-a', 'env', '-i', ...env, ...argv], {
      input: o.input,
      timeoutMs: o.timeoutMs ?? 300_000,
    })
  }

  async function waitForExit(ms: number): Promise<number | undefined> {
    return Promise.race([exited, sleep(ms).then(() => undefined)])
  }

  async function stop(): Promise<void> {
    if (nspawn.exitCode !== null || nspawn.signalCode !== null) return
    // SIGTERM makes nspawn send SIGRTMIN+3 to the container's systemd: an orderly shutdown.
    nspawn.kill('SIGTERM')
    if ((await waitForExit(60_000)) !== undefined) return
    log(`container ${machine} did not power off in 60 s; killing it`)
    killInit()
    await waitForExit(10_000)
  }

  function killInit(): void {
    try {
      process.kill(pid, 'SIGKILL') // killing a PID namespace's init kills everything in it
    } catch {}
    try {
      nspawn.kill('SIGKILL')
    } catch {}
  }

  const container: Container = {
    root,
    layer,
    get pid() {
      return pid
    },
    exec,
    sh: (script, o) => exec(['sh', '-c', script], o),
    async waitForSystem(o = {}) {
      const deadline = Date.now() + (o.timeoutMs ?? 120_000)
      for (;;) {
        const r = await exec(['systemctl', 'is-system-running'], { timeoutMs: 30_000 })
        const state = r.stdout.trim()
        if (state === 'running') return { state, failed: [] }
        if (state === 'degraded' || state === 'maintenance' || Date.now() > deadline) {
          const f = await exec(['systemctl', '--failed', '--plain', '--no-legend'])
          const failed = f.stdout
            .split('\n')
            .map((l) => l.trim().split(/\s+/)[0] ?? '')
            .filter(Boolean)
          if (state === 'degraded' && o.allowDegraded) return { state, failed }
          const status = failed.length
            ? (await exec(['systemctl', 'status', '--no-pager', '--lines=20', ...failed])).stdout
            : ''
          throw new Error(
            `container ${machine} is ${state || 'unreachable'} ${Date.now() > deadline ? '(timed out) ' : ''}` +
              `failed units: ${failed.join(', ') || 'none'}\n${status}\n${r.stderr}\nconsole:\n${tail()}`,
          )
        }
        await sleep(500)
      }
    },
    async reboot() {
      const before = pid
      await exec(['systemctl', 'reboot', '--no-block'])
      const code = await waitForExit(60_000)
      if (code === undefined) {
        log(`container ${machine} did not go down for reboot in 60 s; killing it`)
        killInit()
        await waitForExit(10_000)
      } else if (code !== 133) {
        // 133 is nspawn's "the container asked for a reboot"
        throw new Error(`systemd-nspawn exited ${code} instead of 133 on reboot:\n${tail()}`)
      }
      await start()
      if (pid === before) throw new Error('reboot: the container init PID did not change')
    },
    stop,
    async destroy() {
      if (destroyed) return
      destroyed = true
      await stop()
      if (layer === 'overlay') spawnSync('umount', ['--lazy', root])
      if (process.env.XOA_NSPAWN_KEEP === '1') {
        log(`kept ${work} (XOA_NSPAWN_KEEP=1)`)
        return
      }
      rmSync(work, { recursive: true, force: true })
    },
    consoleLog: () => (existsSync(consoleFile) ? readFileSync(consoleFile, 'utf8') : ''),
  }

  opts.t?.after(() => container.destroy())
  try {
    await start()
  } catch (e) {
    await container.destroy()
    throw e
  }
  return container
}

/** Overlay the read-only cached rootfs; fall back to a (reflink where possible) copy when overlayfs fails. */
function makeRoot(rootfs: string, work: string, root: string): 'overlay' | 'copy' {
  const upper = join(work, 'upper')
  const scratch = join(work, 'overlay-work')
  mkdirSync(upper)
  mkdirSync(scratch)
  const o = spawnSync('mount', [
    '-t',
    'overlay',
    'overlay',
    '-o',
    `lowerdir=${rootfs},upperdir=${upper},workdir=${scratch}`,
    root,
  ])
  if (o.status === 0) return 'overlay'
  const c = spawnSync('cp', ['-a', '--reflink=auto', `${rootfs}/.`, root], { encoding: 'utf8' })
  if (c.status !== 0) throw new Error(`cannot make a container root: overlay and cp both failed: ${c.stderr}`)
  return 'copy'
}

/**
 * The host's Node (and npm, which `xoa build` uses to provision runtimes) bound read-only, and `xoa` installed
 * the way scripts/setup.sh installs it, at /usr/local/bin/xoa: the units apply writes call it there.
 * Wrappers rather than symlinks, so the bundle's file mode in the checkout does not matter.
 */
function installTools(root: string, withNpm: boolean): void {
  const bin = join(root, 'usr', 'local', 'bin')
  mkdirSync(bin, { recursive: true })
  if (!existsSync(join(bin, 'node'))) symlinkSync(CONTAINER_NODE, join(bin, 'node'))
  const wrapper = (name: string, script: string, env = '') =>
    writeFileSync(join(bin, name), `#!/bin/sh\n${env}exec ${CONTAINER_NODE} ${script} "$@"\n`, {
      mode: 0o755,
    })
  wrapper('xoa', CONTAINER_XOA)
  // Like Debian's npm (its builtin npmrc says globalconfig=/etc/npmrc): the machine's npm config lives there.
  if (withNpm) wrapper('npm', `${CONTAINER_NPM}/bin/npm-cli.js`, 'NPM_CONFIG_GLOBALCONFIG=/etc/npmrc ')
}

/** The host's npm package dir (…/node_modules/npm), when npm is installed next to Node. */
function hostNpm(): string | undefined {
  const r = spawnSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' })
  if (r.status !== 0) return undefined
  const cli = realpathSync(r.stdout.trim()) // …/node_modules/npm/bin/npm-cli.js
  const dir = dirname(dirname(cli))
  return existsSync(join(dir, 'package.json')) ? dir : undefined
}
