// How plan and apply reach a path on the target: through the safe filesystem layer, from the target's root
// (the live "/" or the --root prefix). An undeclared symlink in any parent is refused, naming the path, so
// `apply --root DIR` never reads or writes outside DIR (issue 10, finding 5) and a live apply never writes
// through a link another account planted.
import { realpath } from 'node:fs/promises'
import { basename, dirname } from 'node:path'
import { SYSTEM_LINKS } from '../fs/at.ts'
import { errno } from '../fs/names.ts'
import type { Meta, SafeDir } from '../fs/safe-dir.ts'
import { SafeDir as Dir } from '../fs/safe-dir.ts'
import type { Host } from './host.ts'

/** Parents apply creates that no resource declares (/etc/systemd/system in an empty prefix): root, 0755. */
export const UNDECLARED_PARENT: Meta = { uid: 0, gid: 0, mode: 0o755 }

/** The target's root directory. The prefix itself is the admin's own choice, so its path is resolved first. */
export async function openTarget(host: Host): Promise<SafeDir> {
  return Dir.open(host.live ? '/' : await realpath(host.root))
}

export interface Entry {
  dir: SafeDir
  name: string
}

/**
 * The directory holding `path` (an absolute target path) and the entry's name; undefined when a parent is
 * not (yet) a directory (unless `create`, which makes the missing ones as UNDECLARED_PARENT). The caller closes `dir`.
 */
export async function parentIn(root: SafeDir, path: string, create = false): Promise<Entry | undefined> {
  try {
    const dir = await root.beneath(dirname(path), {
      declaredLinks: SYSTEM_LINKS,
      create: create ? UNDECLARED_PARENT : undefined,
    })
    return { dir, name: basename(path) }
  } catch (e) {
    // Absent, or a file where a parent directory should be: nothing is there yet (the declared directory's
    // own resource reports the conflict). A symlink is never "absent": it is refused.
    if (!create && (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR')) return undefined
    throw e
  }
}

/** Run `fn` on the entry `path` beneath `root`, its parents created when missing; the handle is closed after. */
export async function atTarget(
  root: SafeDir,
  path: string,
  fn: (e: Entry) => Promise<unknown>,
): Promise<void> {
  const entry = (await parentIn(root, path, true)) as Entry
  try {
    await fn(entry)
  } finally {
    await entry.dir.close()
  }
}
