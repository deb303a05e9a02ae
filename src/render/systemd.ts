// Formatting systemd unit files from data, with the quoting systemd expects. Units are built as lists of
// directives so the hardening set can be shared and each relaxation can carry its reason as a comment.

export type DirectiveValue = string | number | boolean
/** A directive, or a comment line explaining the directive that follows. */
export type UnitLine = readonly [key: string, value: DirectiveValue] | { readonly comment: string }
export type UnitSection = readonly [name: string, lines: readonly UnitLine[]]

const HEADER = '# Managed by xoa (rendered from the spec; edit the spec, not this file).'

export function formatUnit(sections: readonly UnitSection[], header: readonly string[] = []): string {
  const out: string[] = [HEADER, ...header.map((h) => `# ${h}`)]
  for (const [name, lines] of sections) {
    out.push('', `[${name}]`)
    for (const line of lines) {
      if ('comment' in line) out.push(...line.comment.split('\n').map((c) => `# ${c}`))
      else out.push(`${line[0]}=${formatValue(line[1])}`)
    }
  }
  return `${out.join('\n')}\n`
}

/**
 * Every value, whatever the directive: systemd expands specifiers (%n, %h, …) in nearly all of them, and none of
 * ours means one, so each `%` is written `%%` here, once, for every line of every unit.
 */
function formatValue(v: DirectiveValue): string {
  const s = typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v)
  if (/[\n\r\0]/.test(s))
    throw new Error(`unit value must not contain a newline or NUL: ${JSON.stringify(s)}`)
  return s.replaceAll('%', '%%')
}

/**
 * One word of a command line or a space-separated list (ReadWritePaths=, RuntimeDirectory=, …), quoted when it
 * needs to be: systemd splits on whitespace and unquotes C-style (systemd.syntax(7)); `$` expands environment
 * variables in ExecStart. Specifiers are escaped by formatUnit for every value.
 */
export function quoteWord(s: string, { exec = false } = {}): string {
  let w = s
  if (exec) w = w.replaceAll('$', '$$$$')
  if (w !== '' && !/[\s"'\\;]/.test(w)) return w
  return `"${w.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`
}

/** An ExecStart= value: each argument quoted as needed. */
export function execLine(argv: readonly string[]): string {
  return argv.map((a) => quoteWord(a, { exec: true })).join(' ')
}

/** A space-separated path list (ReadWritePaths=, …). */
export function pathList(paths: readonly string[]): string {
  return [...new Set(paths)].map((p) => quoteWord(p)).join(' ')
}

/** An Environment= assignment, quoted as one word. */
export function envAssignment(name: string, value: string): string {
  return quoteWord(`${name}=${value}`)
}
