// The root side of the broker: a Unix socket only the service group can open; one request per connection.
import { chmod, lchown, lstat, unlink } from 'node:fs/promises'
import { createServer, type Server, type Socket } from 'node:net'
import { basename, dirname } from 'node:path'
import { type Executor, runPlan } from './exec.ts'
import { DEFAULT_MAX_IMAGE_MOUNTS, reserveImageServer } from './image-cap.ts'
import { PinRefused, pinAll } from './pin.ts'
import { decide } from './policy.ts'
import {
  type BrokerReply,
  describeRequest,
  MAX_REQUEST_BYTES,
  parseRequest,
  READ_TIMEOUT_MS,
} from './protocol.ts'
import { openSocketDir } from './socket-dir.ts'
import type { ExecPlan, PolicyContext } from './types.ts'

export interface DaemonOptions {
  ctx: PolicyContext
  /** Socket path for standalone mode; ignored under systemd socket activation. */
  socketPath: string
  /** Group that may connect (socket mode 0660, root:group). */
  gid: number
  executor?: Executor
  log?: (line: string) => void
  /** Environment to read LISTEN_FDS/LISTEN_PID from. */
  env?: NodeJS.ProcessEnv
  limits?: Partial<ConnectionLimits>
}

/** Handle one request text end to end; exported so tests can drive it without a socket. */
export async function handle(text: string, opts: DaemonOptions): Promise<BrokerReply> {
  const log = opts.log ?? ((l) => process.stderr.write(`${l}\n`))
  const parsed = parseRequest(text)
  if (!parsed.ok) return refused(parsed.reason, log, '<malformed>')
  const what = describeRequest(parsed.request)
  const decision = decide(parsed.request, opts.ctx)
  if (!decision.allow) return refused(decision.reason, log, what)
  if (decision.exec.file !== opts.ctx.tools.vhdimount) return run(decision.exec, what, opts, log)
  const slot = reserveImageServer(opts.ctx.mountsDir, opts.ctx.maxImageMounts ?? DEFAULT_MAX_IMAGE_MOUNTS)
  if (!slot.ok) return refused(slot.reason, log, what)
  try {
    return await run(decision.exec, what, opts, log)
  } finally {
    slot.release()
  }
}

async function run(exec: ExecPlan, what: string, opts: DaemonOptions, log: (l: string) => void) {
  let pinned: Awaited<ReturnType<typeof pinAll>>
  try {
    pinned = await pinAll(exec.pins, opts.ctx.mountsDir)
  } catch (e) {
    if (e instanceof PinRefused) return refused(e.message, log, what)
    throw e
  }
  try {
    const reply = await (opts.executor ?? runPlan)(exec, pinned.fds)
    log(`allowed: ${what} -> ${exec.file} exit ${reply.code}`)
    return reply
  } finally {
    await pinned.release()
  }
}

function refused(reason: string, log: (l: string) => void, what: string): BrokerReply {
  log(`refused: ${what}: ${reason}`)
  return { code: 1, stdout: '', stderr: `xoa-mountd: refused: ${reason}\n`, refused: reason }
}

/**
 * What one broker serves at a time. Peer credentials would not help to share it out: the attacker runs as
 * the service account, like xo-server itself. So a request line must arrive within a deadline counted from
 * the connection (not an idle timeout a trickling client can renew), and when all connection slots are taken
 * the oldest connection still sending its request is dropped for the newcomer: a flood of idle or trickling
 * connections cannot keep a prompt request out. Requests that are complete run up to `running` at a time.
 */
export interface ConnectionLimits {
  connections: number
  running: number
  deadlineMs: number
}
export const CONNECTION_LIMITS: ConnectionLimits = {
  connections: 64,
  running: 16,
  deadlineMs: READ_TIMEOUT_MS,
}

interface Conn {
  reading: boolean
  drop(reason: string): void
}

interface ServerState {
  limits: ConnectionLimits
  /** Open connections, oldest first (a Set keeps insertion order). */
  open: Set<Conn>
  running: number
}

function serveConnection(sock: Socket, opts: DaemonOptions, state: ServerState): void {
  const log = opts.log ?? ((l) => process.stderr.write(`${l}\n`))
  const { limits } = state
  const chunks: Buffer[] = []
  let size = 0
  let done = false
  let started = false
  let deadline: NodeJS.Timeout | undefined
  const reply = (r: BrokerReply) => {
    if (done) return
    done = true
    clearTimeout(deadline)
    sock.end(`${JSON.stringify(r)}\n`)
  }
  const fail = (reason: string) => reply(refused(reason, log, '<connection>'))
  const conn: Conn = {
    reading: true,
    drop(reason) {
      conn.reading = false
      fail(reason)
      sock.destroySoon()
    },
  }
  if (state.open.size >= limits.connections) {
    const oldest = [...state.open].find((c) => c.reading)
    if (!oldest) {
      fail(`busy: ${state.open.size} connections open, all running; retry`)
      sock.destroySoon()
      return
    }
    oldest.drop(`dropped: ${limits.connections} connections open and this one had not sent its request`)
    state.open.delete(oldest)
  }
  state.open.add(conn)
  sock.on('close', () => state.open.delete(conn))
  deadline = setTimeout(
    () => conn.drop(`no complete request within ${limits.deadlineMs} ms`),
    limits.deadlineMs,
  )
  sock.on('error', () => {})
  // Called on the first newline and again on 'end': the request must run once only.
  const finish = () => {
    if (done || started) return
    started = true
    conn.reading = false
    clearTimeout(deadline)
    if (state.running >= limits.running) return fail(`busy: ${state.running} requests running; retry`)
    state.running++
    const text = Buffer.concat(chunks).toString('utf8').split('\n')[0]!
    handle(text, opts)
      .then(reply, (e) => reply({ code: 1, stdout: '', stderr: `xoa-mountd: ${(e as Error).message}\n` }))
      .finally(() => state.running--)
  }
  sock.on('data', (chunk: Buffer) => {
    if (done || started) return
    size += chunk.length
    if (size > MAX_REQUEST_BYTES) {
      fail(`request larger than ${MAX_REQUEST_BYTES} bytes`)
      sock.pause()
      return
    }
    chunks.push(chunk)
    if (chunk.includes(10)) {
      sock.pause()
      finish()
    }
  })
  sock.on('end', finish)
}

/** Start listening; resolves once the socket accepts connections. */
export async function startDaemon(opts: DaemonOptions): Promise<Server> {
  const state: ServerState = { limits: { ...CONNECTION_LIMITS, ...opts.limits }, open: new Set(), running: 0 }
  const server = createServer({ allowHalfOpen: true }, (sock) => serveConnection(sock, opts, state))
  const env = opts.env ?? process.env
  if (env.LISTEN_PID === String(process.pid) && Number(env.LISTEN_FDS) >= 1) {
    // systemd socket activation: the socket (0660 root:group) is fd 3.
    await new Promise<void>((res, rej) => server.once('error', rej).listen({ fd: 3 }, res))
    return server
  }
  const dir = await openSocketDir(dirname(opts.socketPath))
  try {
    const at = dir.at(basename(opts.socketPath))
    if ((await lstat(at).catch(() => undefined))?.isSocket()) await unlink(at)
    // Created with no access for anyone but root, then handed to the group: never briefly world-writable.
    // Bound through the checked directory's descriptor; nobody else can write there to swap the name after.
    const old = process.umask(0o177)
    try {
      await new Promise<void>((res, rej) => server.once('error', rej).listen(at, res))
    } finally {
      process.umask(old)
    }
    const st = await lstat(at)
    if (!st.isSocket() || st.uid !== 0) throw new Error(`${opts.socketPath} changed after it was bound`)
    await lchown(at, 0, opts.gid)
    await chmod(at, 0o660)
  } finally {
    await dir.close()
  }
  return server
}
