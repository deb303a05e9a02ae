// `xoa up`: everything in the foreground, for containers and for trying XO out. Build (no-op when up to date),
// config, a dedicated Redis, the mount broker, the declared admin, then xo-server from the current release,
// gated on health: a new release that is not healthy in time is rolled back and the previous one serves.
import { existsSync } from 'node:fs'
import { currentId, previousId } from '../build/store.ts'
import { currentPlatform, platformEnv } from '../platform/load.ts'
import { servicePath } from '../platform/platform.ts'
import { hostTool } from '../platform/tool.ts'
import { specEnvironment } from '../spec/container.ts'
import { statePaths } from '../spec/paths.ts'
import type { Spec } from '../spec/schema.ts'
import { serverEnvironment } from '../spec/server-env.ts'
import { XoaError } from '../util/errors.ts'
import { ensureServiceAccount } from '../util/service-account.ts'
import { xoStateDeclared } from '../xo-state/reconcile.ts'
import { bootstrapWithSecrets, runAsServiceAccount } from './bootstrap.ts'
import { type Account, prepareForeground } from './foreground.ts'
import { switchWithHealthGate } from './gate.ts'
import { localEndpoint, signInRefusal, waitHealthy } from './health.ts'
import { leastPrivilege } from './least-privilege.ts'
import { pingRedis } from './redis.ts'
import { onStopSignal, type Supervised, startChild, stopAll } from './supervisor.ts'
import { holdUpLock } from './up-lock.ts'
import { reconcileAfterUp } from './xo-state-up.ts'

export interface UpOptions {
  specPath: string
  /** Build (or find) this release before starting; returns its id. Undefined = serve `current` as it is. */
  build?: () => Promise<string>
  healthTimeoutMs: number
  log: (line: string) => void
  /** Resolves when up should stop (signals by default); tests pass their own. */
  stopWhen?: Promise<unknown>
}

export interface UpState {
  url: string
  release: string
  rolledBackFrom?: string
  stop(): Promise<void>
  /** Resolves with xo-server's exit code when it dies on its own. */
  serverExited: Promise<number | null>
}

/** As root, the service account with no capabilities and no_new_privs (least-privilege.ts); else as we are. */
function asService(owner: Account, argv: string[]): { command: string; args: string[] } {
  const [command, ...args] =
    owner.uid === undefined ? argv : leastPrivilege(owner.uid, owner.gid ?? owner.uid, argv)
  return { command: command!, args }
}

async function waitFor(cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await cond()) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new XoaError(`${what} did not come up within ${timeoutMs / 1000} s`)
}

/** Start everything; resolve once XO is healthy (or throw, having stopped what it started). */
export async function up(spec: Spec, opts: UpOptions): Promise<UpState> {
  const p = statePaths(spec)
  const children: Supervised[] = []
  let server: Supervised | undefined
  let serverSince = ''
  // Held from the first step: restore and backup must see `xoa up` even while it builds or starts Redis.
  const lock = await holdUpLock(spec, () =>
    server?.running() && server.child.pid ? { pid: server.child.pid, since: serverSince } : undefined,
  )
  const log = opts.log
  try {
    // A container has no `xoa apply`: as root, create the service account (and group) it runs as.
    if (process.getuid?.() === 0) {
      const { created } = await ensureServiceAccount(spec)
      if (created.length) opts.log(`xoa | created the service account: ${created.join(', ')}`)
    }
    const owner = await runAsServiceAccount(spec)
    const candidate = opts.build ? await opts.build() : undefined
    if (!existsSync(p.current) && !candidate)
      throw new XoaError('no release is built yet', { hint: 'xoa build' })
    const files = await prepareForeground(spec, owner)
    const redis = startChild(
      {
        name: 'redis-xo',
        ...asService(owner, [
          hostTool('redis-server', 'xoa up (Redis)'),
          files.redisConfig,
          '--supervised',
          'no',
        ]),
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      },
      log,
    )
    children.push(redis)
    await waitFor(async () => redis.running() && (await pingRedis(spec.redis.socket)), 30_000, 'Redis')

    if (spec.mounts.mode === 'broker' && process.getuid?.() === 0) {
      const self = [...process.execArgv, process.argv[1]!]
      children.push(
        startChild(
          {
            name: 'mountd',
            command: process.execPath,
            args: [...self, 'broker', 'serve', '--spec', opts.specPath],
            // The broker finds its tools through the platform, which must reach it (a file's path, or nothing);
            // it reads the spec up reads (the container's defaults and XOA_* fields).
            env: {
              PATH: servicePath(currentPlatform()).join(':'),
              ...platformEnv(),
              ...specEnvironment(process.env),
            },
          },
          log,
        ),
      )
    }

    // The first release ever: make it current before bootstrap, which runs that release's tools.
    const hadCurrent = currentId(p)
    if (!hadCurrent && candidate) await (await import('../build/store.ts')).switchTo(p, candidate)
    // The same bootstrap as the xo-bootstrap unit: certificate, secrets (under the state dir), the admin.
    const { report: boot, secrets } = await bootstrapWithSecrets(spec, { mode: 'foreground' })
    for (const s of boot.secrets.filter((o) => o.outcome === 'created' || o.outcome === 'changed'))
      log(`xoa | ${s.outcome === 'created' ? 'generated' : 'updated'} ${s.path} (${s.description})`)
    if (boot.admin.created)
      log(`xoa | created the web admin ${boot.admin.email} (password in ${boot.admin.passwordFile})`)
    const admin = { email: spec.webAdmin.email, password: secrets.adminPassword }

    const control = {
      async restart() {
        if (server) await server.stop()
        server = startChild(
          {
            name: 'xo-server',
            ...asService(owner, [p.currentNode, p.currentServer]),
            env: serverEnvironment(spec, secrets.serverEnv),
            cwd: spec.xo.stateDir,
          },
          log,
        )
        serverSince = new Date().toISOString()
      },
      running: () => server?.running() ?? false,
    }
    const check = { endpoint: () => localEndpoint(spec), admin, timeoutMs: opts.healthTimeoutMs }
    let rolledBackFrom: string | undefined
    if (candidate && hadCurrent && candidate !== hadCurrent) {
      const gate = await switchWithHealthGate(p, candidate, control, check)
      if (!gate.switched) {
        rolledBackFrom = candidate
        log(`xoa | release ${candidate} was not healthy (${gate.health.reason}); back on ${gate.from}`)
        if (!gate.restored?.healthy)
          throw new XoaError(
            `the previous release is not healthy either: ${gate.restored?.reason ?? 'no previous'}`,
          )
      }
    } else {
      await control.restart()
      const health = await waitHealthy(check.endpoint(), admin, {
        timeoutMs: check.timeoutMs,
        stillRunning: control.running,
      })
      if (!health.healthy) {
        const prev = previousId(p)
        throw new XoaError(`xo-server is not healthy: ${health.reason}`, {
          hint: prev ? `xoa rollback (to ${prev}), then xoa up again` : 'xoa logs; xoa doctor',
        })
      }
    }
    if (server) children.push(server)
    const pingOnly = signInRefusal(check.endpoint())
    if (pingOnly) {
      log(`xoa | health is ping only; sign-in not checked: ${pingOnly}`)
      // The API client signs in with the admin's password, which goes only over the pinned certificate.
      if (xoStateDeclared(spec)) log(`xoa | XO state NOT applied: ${pingOnly}`)
    } else await reconcileAfterUp(spec, admin, log)
    const running = server!
    return {
      url: check.endpoint().url,
      release: currentId(p) ?? '?',
      rolledBackFrom,
      serverExited: running.exited,
      stop: async () => {
        await stopAll(children.includes(running) ? children : [...children, running])
        await lock.release()
      },
    }
  } catch (e) {
    if (server && !children.includes(server)) children.push(server)
    await stopAll(children)
    await lock.release()
    throw e
  }
}

/** `xoa up` in the foreground until a signal: returns the exit code. */
export async function upUntilStopped(spec: Spec, opts: UpOptions): Promise<number> {
  const signals = onStopSignal()
  try {
    const state = await up(spec, opts)
    opts.log(`xoa | Xen Orchestra is up at ${state.url} (release ${state.release}); Ctrl-C stops it`)
    const why = await Promise.race([
      (opts.stopWhen ?? signals.signalled).then(() => 'stop' as const),
      state.serverExited.then((code) => code),
    ])
    await state.stop()
    if (why === 'stop') return 0
    opts.log(`xoa | xo-server exited on its own (code ${why}); stopped everything`)
    return 1
  } finally {
    signals.dispose()
  }
}
