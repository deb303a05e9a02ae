// `xoa rollback [ID]`: make an earlier release current again (non-interactive; no ID = previous). Under systemd
// it is the health-gated switch of an upgrade; without systemd it says exactly what to restart.
import type { Command } from 'commander'
import { detectServiceControl } from '../backup/services.ts'
import { rollbackRelease } from '../run/rollback.ts'
import { systemdServerControl } from '../run/server-control.ts'
import { readAdminPassword } from '../status/admin-password.ts'
import { hostView } from '../status/host.ts'
import { observeServer } from '../status/server.ts'
import { positiveSeconds } from './flags.ts'
import { dim, green, printJson, say, yellow } from './output.ts'
import { readSpec, withSpecOption } from './spec-option.ts'

export function register(program: Command): void {
  withSpecOption(program.command('rollback'))
    .description(
      'make release ID current (default: the previous one); under systemd restart xo-server on it, check health, switch back if unhealthy',
    )
    .argument('[id]', 'release id from `xoa releases`')
    .option('--health-timeout <seconds>', 'how long the release gets to become healthy', '180')
    .option('--json', 'print {from, to, health, restart, pinNote} as JSON')
    .action(
      async (id: string | undefined, opts: { spec?: string; json?: boolean; healthTimeout: string }) => {
        const timeout = positiveSeconds('--health-timeout', opts.healthTimeout)
        const spec = readSpec(opts)
        const host = hostView('/')
        // systemd runs xo-server here: xoa restarts it and gates the switch. Otherwise xoa cannot restart it.
        const systemd = (await detectServiceControl(spec)).manages
        const password = readAdminPassword(spec, host)
        const server = systemd ? undefined : await observeServer(spec, host)
        const r = await rollbackRelease(spec, id, {
          control: systemd ? systemdServerControl() : undefined,
          admin: password ? { email: spec.webAdmin.email, password } : undefined,
          healthTimeoutMs: timeout * 1000,
          foreground: server && { running: server.running, pid: server.pid },
        })
        if (opts.json) return printJson(r)
        say(`current: ${r.to}${r.from ? ` (was ${r.from}, now previous)` : ''}`)
        if (r.health)
          say(
            `${green('healthy')}: xo-server restarted on ${r.to}${r.health.signIn ? ', the admin signs in' : ''}`,
          )
        if (r.restart) say(`${yellow('restart needed')}: ${r.restart}`)
        if (r.pinNote) say(dim(`note: ${r.pinNote}`))
      },
    )
}
