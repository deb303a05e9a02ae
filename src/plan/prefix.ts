// What `apply --root DIR` needs from the prefix before it changes anything: the account databases of the
// target system. groupadd/useradd --root edit DIR/etc/{group,passwd} in place and fail with "cannot lock
// /etc/group" when they are absent; say so up front instead, naming what is missing.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/** What the prefix lacks, as `etc/…` paths with the reason; empty when apply can work there. */
export function prefixLacks(root: string): string[] {
  const out: string[] = []
  for (const [file, account] of [
    ['etc/passwd', 'root:'],
    ['etc/group', 'root:'],
  ] as const) {
    const path = join(root, file)
    if (!existsSync(path)) out.push(`${file} (missing)`)
    else if (
      !readFileSync(path, 'utf8')
        .split('\n')
        .some((l) => l.startsWith(account))
    )
      out.push(`${file} (no root entry)`)
  }
  return out
}
