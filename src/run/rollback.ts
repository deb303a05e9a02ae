// `xoa rollback` as a function: make an earlier release current, as an upgrade switches — behind the health
// gate when xoa can restart xo-server (systemd), so a release that does not come up is switched back at once.
// Without systemd xoa cannot restart xo-server: the link moves and the result says exactly what to restart.
import { join } from 'node:path'
import { currentId, lockStore, previousId, readManifest, switchTo } from '../build/store.ts'
import { findPinFile, readPin } from '../source/pin.ts'
import { statePaths } from '../spec/paths.ts'
import type { Spec } from '../spec/schema.ts'
import { XoaError } from '../util/errors.ts'
import { type ServerControl, switchWithHealthGate } from './gate.ts'
import type { Credentials, HealthReport } from './health.ts'
import { localEndpoint } from './health.ts'
import { lockUpgrade } from './upgrade.ts'

export interface RollbackOptions {
  /** Restarts xo-server (systemd on a host, the fixture in tests); undefined when xoa cannot restart it. */
  control?: ServerControl
  admin?: Credentials
  healthTimeoutMs: number
  /** How xo-server runs when there is no control (says what to restart). */
  foreground?: { running: boolean; pid?: number }
}

export interface RollbackResult {
  from?: string
  to: string
  /** The health check of `to` after the restart; undefined when nothing was restarted. */
  health?: HealthReport
  /** Without a control: what the user must restart for `to` to serve. */
  restart?: string
  /** The next `xoa build` (xo-build.service at boot, `xoa up`) would switch back to the pin's release. */
  pinNote?: string
}

/** The release a rollback goes to: the one asked for, else previous. Pure checks, same words as the store. */
function target(paths: ReturnType<typeof statePaths>, id: string | undefined): string {
  const to = id ?? previousId(paths)
  if (!to)
    throw new XoaError('there is no previous release to roll back to', {
      hint: 'run `xoa releases` and pass an ID: xoa rollback ID',
    })
  if (to === currentId(paths)) throw new XoaError(`${to} is already current`)
  return to
}

export async function rollbackRelease(
  spec: Spec,
  id: string | undefined,
  opts: RollbackOptions,
): Promise<RollbackResult> {
  const paths = statePaths(spec)
  // With a restart, hold the upgrade lock too: xo-build runs at every xo-server restart and would otherwise
  // switch straight back to the pin's release under the health gate.
  const unlockUpgrade = opts.control ? await lockUpgrade(spec) : undefined
  const lock = await lockStore(paths).catch(async (e) => {
    await unlockUpgrade?.()
    throw e
  })
  try {
    const to = target(paths, id)
    const pinNote = pinNoteFor(spec, paths, to)
    if (!opts.control) {
      const { from } = await switchTo(paths, to)
      return { from, to, restart: restartAdvice(to, from, opts.foreground), pinNote }
    }
    const gate = await switchWithHealthGate(paths, to, opts.control, {
      endpoint: () => localEndpoint(spec),
      admin: opts.admin,
      timeoutMs: opts.healthTimeoutMs,
    })
    if (gate.switched) return { from: gate.from, to, health: gate.health, pinNote }
    const back = gate.restored?.healthy
      ? `${gate.from} is current and serving again`
      : `${gate.from} is current again but NOT healthy: ${gate.restored?.reason ?? 'not checked'}`
    throw new XoaError(`${to} was not healthy after the restart (${gate.health.reason}); ${back}`, {
      hint: 'journalctl -u xo-server -n 100; `xoa releases` lists the others',
    })
  } finally {
    await lock.release()
    await unlockUpgrade?.()
  }
}

/** Pure: the exact restart that makes `to` serve when xoa cannot restart xo-server itself. */
export function restartAdvice(
  to: string,
  from: string | undefined,
  fg: RollbackOptions['foreground'],
): string {
  // `xoa up` without --no-build builds the pin and switches to it: that would undo this rollback.
  const how = '`xoa up --no-build` (plain `xoa up` builds the pin and switches to it)'
  if (fg?.running)
    return `xo-server${fg.pid ? ` (pid ${fg.pid})` : ''} still runs ${from ?? 'the release it started with'}: stop \`xoa up\` (Ctrl-C, or stop its container), then start ${how}`
  return `xo-server is not running: start ${to} with ${how}`
}

/** When the pin names another commit than `to`, the next build switches back: say so, and how to stay. */
function pinNoteFor(spec: Spec, paths: ReturnType<typeof statePaths>, to: string): string | undefined {
  const m = readManifest(join(paths.releases, to))
  if (!m) return undefined
  let rev = spec.source.rev
  let where = 'source.rev in the spec'
  if (!rev) {
    try {
      where = findPinFile(spec)
      rev = readPin(where).rev
    } catch {
      return undefined
    }
  }
  if (m.rev.startsWith(rev) || rev.startsWith(m.rev)) return undefined
  const fix = spec.source.rev ? 'set source.rev to it' : `xoa update --rev ${m.rev.slice(0, 12)}`
  return `${where} still names ${rev.slice(0, 10)}: the next \`xoa build\` (xo-build.service at boot) switches back to it; to stay on ${m.version} (${m.rev.slice(0, 10)}): ${fix}`
}
