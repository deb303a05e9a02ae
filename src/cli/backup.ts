import type { Command } from 'commander'
import { createBackup } from '../backup/backup.ts'
import { detectServiceControl } from '../backup/services.ts'
import { dim, green, printJson, say, warn } from './output.ts'
import { readSpec, type SpecOpts, withSpecOption } from './spec-option.ts'

interface Opts extends SpecOpts {
  out?: string
  json?: boolean
  live?: boolean
}

const CONSISTENCY = {
  'service-stopped': 'xo-server was stopped for the snapshot: Redis and the data dir are of one instant',
  'service-not-running':
    'xo-server was not running (neither systemd nor xoa up runs it): Redis and the data dir are of one instant',
  live: 'taken live (--live): the data dir is as of the copy, Redis as of its atomic snapshot',
} as const

export function register(program: Command): void {
  withSpecOption(program.command('backup'))
    .description(
      "write one 0600 archive of Redis, xo-server's config, the secrets, the pin and the data dir, signed with the host's backup key",
    )
    .option('-o, --out <file>', 'archive path (default: <stateDir>/backups/xoa-backup-<UTC time>.tar.gz)')
    .option('--live', 'do not stop xo-server; the data dir is then copied while it runs')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nRetention keeps updates.keepBackups archives in the default directory.\nRestore with: xoa restore FILE',
    )
    .action(async (opts: Opts) => {
      const spec = readSpec(opts)
      const services = await detectServiceControl(spec)
      // Under `xoa up` xo-server runs but is not ours to stop: the backup is then taken live.
      const underUp = services.underUp === true && !opts.live
      const r = await createBackup(spec, { services, out: opts.out, live: opts.live || underUp })
      if (opts.json) return printJson(r)
      say(`${green('backup written')}: ${r.archive} (${r.bytes} bytes, mode 0600)`)
      say(`  redis: ${r.keys} keys, one atomic snapshot; files: ${r.files}`)
      say(
        underUp
          ? `  taken live: xo-server is running under ${services.name}, which backup does not stop; the data dir is as of the copy, Redis as of its atomic snapshot`
          : `  ${CONSISTENCY[r.consistency.files]}`,
      )
      if (r.release)
        say(`  release: ${r.release.version || '?'} ${r.release.rev.slice(0, 10)} (${r.release.id})`)
      for (const f of r.removed) say(dim(`  removed (retention, keep ${spec.updates.keepBackups}): ${f}`))
      for (const s of r.skipped) warn(`  skipped (restore creates only plain files and directories): ${s}`)
    })
}
