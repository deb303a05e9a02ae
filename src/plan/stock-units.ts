// Stock units xoa replaces (Debian's redis-server.service): masked before apply installs their package, so they
// never start, not even once from the package's postinst; and recorded in xoa's state, so `xoa doctor` can tell
// a mask apply made from one the admin made, and a Redis that was there before xoa from one apply installed.
import { existsSync, readFileSync } from 'node:fs'
import { execa } from 'execa'
import { tool } from '../platform/tool.ts'
import { XoaError } from '../util/errors.ts'
import type { Host } from './host.ts'
import { toolEnv } from './packages.ts'
import { atTarget, openTarget } from './target-fs.ts'

export interface MaskedUnit {
  unit: string
  /** The package apply was about to install when it masked the unit. */
  package: string
  why: string
  /** ISO time of the mask. */
  at: string
}

interface MaskRecord {
  version: 1
  masked: MaskedUnit[]
}

/** Units apply masked, from its record; empty when there is none. A corrupt record is an error, not "none". */
export function readMaskRecord(file: string): MaskedUnit[] {
  if (!existsSync(file)) return []
  return parseMaskRecord(readFileSync(file, 'utf8'), file)
}

function parseMaskRecord(text: string, file: string): MaskedUnit[] {
  const doc = JSON.parse(text) as Partial<MaskRecord>
  if (doc.version !== 1 || !Array.isArray(doc.masked))
    throw new XoaError(`${file}: not an xoa record of masked units (version 1)`)
  return doc.masked
}

/**
 * Mask each unit before its package is installed. With systemd running, `systemctl mask` (also stops apt's
 * `deb-systemd-invoke start`); without it, the same link offline (`--root=/`), so a later boot never starts it —
 * and with no init at all, invoke-rc.d starts nothing anyway. Returns what was masked.
 */
export async function maskStockUnits(
  host: Host,
  units: { pkg: string; unit: string; why: string }[],
  now = new Date(),
): Promise<MaskedUnit[]> {
  const out: MaskedUnit[] = []
  for (const u of units) {
    const args = host.systemd ? ['mask', u.unit] : ['--root=/', 'mask', u.unit]
    const r = await execa(tool('systemctl'), args, { reject: false, all: true, env: toolEnv() })
    // No systemctl: no systemd, where xoa's units do not run either (`xoa up`); in a container without an init
    // invoke-rc.d starts nothing. Nothing masked, nothing recorded.
    if (r.code === 'ENOENT') continue
    if (r.exitCode !== 0)
      throw new XoaError(
        `package ${u.pkg}: could not mask ${u.unit} before installing it: ${(r.all ?? '').trim()}`,
        {
          hint: `systemctl mask ${u.unit}, then run xoa apply again (${u.why})`,
        },
      )
    out.push({ unit: u.unit, package: u.pkg, why: u.why, at: now.toISOString() })
  }
  return out
}

/** Add to the record under the target's root, through the safe layer (root-only 0600: it is xoa's own state). */
export async function recordMasked(host: Host, file: string, masked: MaskedUnit[]): Promise<void> {
  if (masked.length === 0) return
  const root = await openTarget(host)
  try {
    await atTarget(root, file, async ({ dir, name }) => {
      const old = await dir.readFile(name, { uid: 0 })
      const kept = (old ? parseMaskRecord(old.toString('utf8'), file) : []).filter(
        (m) => !masked.some((n) => n.unit === m.unit),
      )
      const doc: MaskRecord = { version: 1, masked: [...kept, ...masked] }
      await dir.writeFile(name, `${JSON.stringify(doc, null, 2)}\n`, { uid: 0, gid: 0, mode: 0o600 })
    })
  } finally {
    await root.close()
  }
}
