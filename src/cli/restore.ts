import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline/promises'
import type { Command } from 'commander'
import { readKeyArgument } from '../backup/key-file.ts'
import { restoreBackup, type VerifiedBackup, verifyBackup } from '../backup/restore.ts'
import { detectServiceControl } from '../backup/services.ts'
import { localEndpoint, waitHealthy } from '../run/health.ts'
import { withRedisRunning } from '../run/redis-temporary.ts'
import { statePaths } from '../spec/paths.ts'
import type { Spec } from '../spec/schema.ts'
import { UsageError, XoaError } from '../util/errors.ts'
import { green, printJson, say, yellow } from './output.ts'
import { readSpec, type SpecOpts, withSpecOption } from './spec-option.ts'

interface Opts extends SpecOpts {
  key?: string
  yes?: boolean
  json?: boolean
}

export function register(program: Command): void {
  withSpecOption(program.command('restore'))
    .description(
      'verify a backup archive, stop xo-server, restore Redis and the files, start it, check health',
    )
    .argument('<file>', 'archive written by xoa backup')
    .option(
      '-k, --key <file>',
      'the backup key of the host that made the archive (a copy of its <stateDir>/secrets/backup-key)',
    )
    .option('-y, --yes', 'do not ask (required when stdin is not a terminal)')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      "\nEverything in Redis is replaced by the backup; the archive is verified first.\nOnly archives signed with this host's backup key (or --key) are accepted.",
    )
    .action(async (file: string, opts: Opts) => {
      const spec = readSpec(opts)
      if (!opts.yes && !process.stdin.isTTY)
        throw new UsageError(
          'restore replaces all of Redis and the data dir; refusing without --yes because stdin is not a terminal',
          `xoa restore ${file} --yes`,
        )
      const services = await detectServiceControl(spec)
      // A live `xoa up` cannot be stopped from here: refuse before verifying, asking, or changing anything.
      if (services.underUp === true) await services.stop()
      const run = async () => {
        const v = await verifyBackup(spec, file, { key: opts.key ? readKeyArgument(opts.key) : undefined })
        try {
          if (!opts.json) describe(v)
          if (!opts.yes && !(await confirm())) throw new XoaError('restore cancelled; nothing was changed')
          const r = await restoreBackup(spec, v, {
            services,
            checkHealth: () => healthAfterRestore(spec),
          })
          if (opts.json) printJson({ archive: v.file, createdAt: v.manifest.createdAt, ...r })
          else {
            say(`${green('restored')}: ${r.keys} Redis keys, ${r.files} files`)
            if (r.key === 'adopted') say(`  this host now uses the key from ${opts.key} for its own backups`)
            if (!r.health.checked) say(`  health check skipped: ${r.health.why}`)
            else if (r.health.healthy)
              say(`  ${green('healthy')}: xo-server answers and the admin can sign in`)
          }
          if (r.health.checked && !r.health.healthy)
            throw new XoaError(`restored, but xo-server is not healthy: ${r.health.reason}`, {
              hint: 'journalctl -u xo-server -n 100',
            })
        } finally {
          v.dispose()
        }
      }
      // Nothing manages Redis here (xoa up owned it and is stopped): restore brings up the same Redis meanwhile.
      if (services.manages) await run()
      else await withRedisRunning(spec, (l) => (opts.json ? process.stderr.write(`${l}\n`) : say(l)), run)
    })
}

function describe(v: VerifiedBackup): void {
  const m = v.manifest
  say(`archive verified: ${v.file}`)
  say(`  made ${m.createdAt} on ${m.hostname} by xoa ${m.xoaVersion}; ${m.redis.keys} Redis keys`)
  if (m.release) say(`  release then: ${m.release.version || '?'} ${m.release.rev.slice(0, 10)}`)
  if (v.specChanged) say(yellow('  the spec differs from the one this backup was made with'))
}

async function confirm(): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout })
  try {
    return (await rl.question('Replace Redis and the files with this backup? Type "yes": ')).trim() === 'yes'
  } finally {
    rl.close()
  }
}

async function healthAfterRestore(spec: Spec) {
  let password: string | undefined
  try {
    password = readFileSync(statePaths(spec).adminPasswordFile, 'utf8').trim()
  } catch {
    password = undefined
  }
  const admin = password ? { email: spec.webAdmin.email, password } : undefined
  return waitHealthy(localEndpoint(spec), admin, { timeoutMs: 120_000 })
}
