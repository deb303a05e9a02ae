// `xoa broker`: the least-privilege mount broker (serve), its sudo shim client (sudo) and a dry policy check.
import type { Command } from 'commander'
import { BrokerUnavailable, forwardedEnv, requestBroker } from '../mount/client.ts'
import { AccountMissing, brokerContext } from '../mount/context.ts'
import { startDaemon } from '../mount/daemon.ts'
import { PinRefused, pinAll } from '../mount/pin.ts'
import { decide } from '../mount/policy.ts'
import { parseRequest } from '../mount/protocol.ts'
import type { PolicyContext } from '../mount/types.ts'
import type { Spec } from '../spec/schema.ts'
import { EXIT, UsageError, XoaError } from '../util/errors.ts'
import { printJson } from './output.ts'
import { readSpec, withSpecOption } from './spec-option.ts'

export function register(program: Command): void {
  const broker = program
    .command('broker')
    .description('least-privilege mount broker: NFS/SMB/VHD mounts for xo-server without sudo')
  withSpecOption(broker.command('serve'))
    .description('run the root daemon on mounts.brokerSocket (socket-activated by systemd, or standalone)')
    .action(serve)
  withSpecOption(broker.command('sudo'))
    .description("the service account's `sudo`: forward a mount/umount/findmnt/vhdi* call to the broker")
    .option('--socket <path>', 'broker socket (default: mounts.brokerSocket of the spec)')
    .argument('<argv...>', 'the command sudo was asked to run, after --')
    .action(shim)
  withSpecOption(broker.command('check'))
    .description('decide a request read as JSON {"argv": [...], "env": {...}} on stdin, without running it')
    .option('--pure', 'policy only: do not open the mount point and image paths on this machine')
    .action(check)
}

async function context(spec: Spec): Promise<PolicyContext> {
  try {
    return await brokerContext(spec)
  } catch (e) {
    if (e instanceof AccountMissing)
      throw new XoaError(`service account: ${e.message}`, {
        hint: 'set service.user/service.group in the spec, or create the account with `xoa apply`',
      })
    throw e
  }
}

async function serve(opts: { spec?: string }): Promise<void> {
  const spec = readSpec(opts)
  if (spec.mounts.mode !== 'broker')
    throw new UsageError(`mounts.mode is "${spec.mounts.mode}": the broker runs only when it is "broker"`)
  if (process.getuid?.() !== 0)
    throw new XoaError('xoa broker serve must run as root (it mounts)', { hint: 'sudo xoa broker serve' })
  const ctx = await context(spec)
  const server = await startDaemon({ ctx, socketPath: spec.mounts.brokerSocket, gid: ctx.gid })
  process.stderr.write(`xoa-mountd: serving ${spec.mounts.brokerSocket} for group ${spec.service.group}\n`)
  await new Promise<void>((resolve) => {
    const stop = () => server.close(() => resolve())
    process.once('SIGTERM', stop)
    process.once('SIGINT', stop)
  })
}

async function shim(argv: string[], opts: { spec?: string; socket?: string }): Promise<void> {
  const socket = opts.socket ?? readSpec(opts).mounts.brokerSocket
  try {
    const reply = await requestBroker(socket, { argv, env: forwardedEnv(process.env) })
    process.stdout.write(reply.stdout)
    process.stderr.write(reply.stderr)
    process.exitCode = reply.code
  } catch (e) {
    if (!(e instanceof BrokerUnavailable)) throw e
    throw new XoaError(e.message, {
      hint:
        e.code === 'EACCES'
          ? 'this account must be in the service group that owns the socket (service.group)'
          : 'start the broker: `systemctl start xoa-mountd.socket`, or `xoa up`',
    })
  }
}

async function check(opts: { spec?: string; pure?: boolean }): Promise<void> {
  const spec = readSpec(opts)
  const chunks: Buffer[] = []
  for await (const c of process.stdin) chunks.push(c as Buffer)
  const parsed = parseRequest(Buffer.concat(chunks).toString('utf8'))
  if (!parsed.ok) {
    printJson({ allow: false, reason: parsed.reason })
    process.exitCode = EXIT.usage
    return
  }
  const ctx = await context(spec)
  const decision = decide(parsed.request, ctx)
  if (!decision.allow) {
    printJson({ allow: false, reason: decision.reason })
    process.exitCode = EXIT.failed
    return
  }
  if (!opts.pure) {
    try {
      await (await pinAll(decision.exec.pins, ctx.mountsDir, { replace: false })).release()
    } catch (e) {
      if (!(e instanceof PinRefused)) throw e
      printJson({ allow: false, reason: e.message })
      process.exitCode = EXIT.failed
      return
    }
  }
  const { file, argv, env } = decision.exec
  const shown = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, k === 'PASSWD' ? '***' : v]))
  printJson({ allow: true, reason: 'allowed by policy', exec: { file, argv, env: shown } })
}
