import type { Command } from 'commander'
import { bootstrap } from '../run/bootstrap.ts'
import { printJson, say } from './output.ts'
import { readSpec, withSpecOption } from './spec-option.ts'

export function register(program: Command): void {
  withSpecOption(program.command('bootstrap'))
    .description(
      'before xo-server starts: ensure the certificate, generate or refresh the secrets, and create the declared web admin (never admin/admin)',
    )
    .option('--json', 'print the report as JSON')
    .action(async (opts: { spec?: string; json?: boolean }) => {
      const r = await bootstrap(readSpec(opts))
      if (opts.json) return printJson(r)
      say(`certificate: ${r.certificate.outcome}${r.certificate.reason ? ` (${r.certificate.reason})` : ''}`)
      for (const s of r.secrets) say(`secret: ${s.path}: ${s.outcome} (${s.description})`)
      if (!r.admin.created) say('web admin: Redis already has users; nothing to do')
      else
        say(
          `web admin: created ${r.admin.email}; password ${r.admin.generated ? 'generated into' : 'from'} ${r.admin.passwordFile}`,
        )
    })
}
