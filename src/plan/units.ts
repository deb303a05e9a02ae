// systemd steps of apply: enable under --root (systemctl --root edits symlinks offline); on a live systemd host
// reload once when a unit file changed, enable, restart only units whose inputs changed, start those not running.
import { execa } from 'execa'
import { tool } from '../platform/tool.ts'
import { XoaError } from '../util/errors.ts'
import type { Change } from './diff.ts'
import type { Host } from './host.ts'

async function systemctl(c: Change | undefined, host: Host, args: string[]): Promise<void> {
  const full = host.live ? args : [`--root=${host.root}`, ...args]
  const r = await execa(tool('systemctl'), full, { reject: false, all: true })
  if (r.exitCode !== 0)
    throw new XoaError(`${c ? `${c.id}: ` : ''}systemctl ${full.join(' ')} failed: ${(r.all ?? '').trim()}`, {
      hint: c?.resource.kind === 'unit' ? `see \`journalctl -u ${c.resource.name}\`` : 'see `journalctl -xe`',
    })
}

export async function runUnitSteps(
  host: Host,
  pending: Change[],
  onChange?: (c: Change) => void,
): Promise<void> {
  const units = pending.filter((c) => c.resource.kind === 'unit')
  const unitFileChanged = pending.some(
    (c) => c.resource.kind === 'file' && c.resource.file.validate === 'systemd-unit',
  )
  if (host.live && host.systemd && unitFileChanged) await systemctl(undefined, host, ['daemon-reload'])
  for (const c of units) {
    if (c.resource.kind !== 'unit') continue
    const name = c.resource.name
    for (const step of c.steps ?? []) await systemctl(c, host, [step, name])
    onChange?.(c)
  }
}
