// /etc/tmpfiles.d/xoa.conf: the host's directories (src/host/directories.ts) as systemd-tmpfiles lines, so that
// every front-end states the same owners and modes from one description. `xoa apply` creates the directories
// itself and installs this file too (systemd-tmpfiles then keeps them right at boot); the NixOS module ships it
// through systemd.tmpfiles.packages, which is how NixOS gets its directories at all.
import { hostDirectories } from '../host/directories.ts'
import type { Spec } from '../spec/schema.ts'
import type { Artefact } from './index.ts'
import type { RenderedFile } from './types.ts'

export const TMPFILES_CONFIG = '/etc/tmpfiles.d/xoa.conf'

/**
 * One path field of tmpfiles.d(5): specifiers (%) escaped; quoted with C escapes when it has blanks, quotes or
 * backslashes (fields other than the argument may be quoted).
 */
export function tmpfilesPath(p: string): string {
  if (/[\n\r\0]/.test(p)) throw new Error(`path must not contain a newline or NUL: ${JSON.stringify(p)}`)
  const w = p.replaceAll('%', '%%')
  return /[\s"'\\]/.test(w) ? `"${w.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"` : w
}

const octal = (mode: number) => mode.toString(8).padStart(4, '0')

export function renderTmpfiles(spec: Spec): RenderedFile {
  const lines = hostDirectories(spec).map(
    (d) => `d ${tmpfilesPath(d.path)} ${octal(d.mode)} ${d.owner} ${d.group} - -`,
  )
  const content = [
    '# Managed by xoa (rendered from the spec; edit the spec, not this file).',
    "# xoa's directories, owners and modes: `xoa apply` creates the same ones; systemd-tmpfiles keeps them so.",
    '# Type Path Mode User Group Age Argument',
    ...lines,
    '',
  ].join('\n')
  return { path: TMPFILES_CONFIG, content, mode: 0o644, owner: 'root', group: 'root' }
}

export const tmpfilesArtefact: Artefact = {
  name: 'tmpfiles.d',
  description: "xoa's directories with their owners and modes, for systemd-tmpfiles (all front-ends)",
  render: (spec) => [renderTmpfiles(spec)],
}
