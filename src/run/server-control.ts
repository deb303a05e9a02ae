// The ServerControl of a systemd host: the health gate restarts xo-server.service into the release `current`
// points at (the unit's ExecStart goes through the symlink).
import { execa } from 'execa'
import { tool } from '../platform/tool.ts'
import { XoaError } from '../util/errors.ts'
import type { ServerControl } from './gate.ts'

export function systemdServerControl(unit = 'xo-server.service'): ServerControl {
  return {
    async restart() {
      const r = await execa(tool('systemctl'), ['restart', unit], { reject: false, stdin: 'ignore' })
      if (r.exitCode !== 0)
        throw new XoaError(`systemctl restart ${unit} failed: ${String(r.stderr).trim() || r.exitCode}`, {
          hint: `journalctl -u ${unit} -n 50`,
        })
    },
  }
}
