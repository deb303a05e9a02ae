// Absolute paths of the brokered tools, found in fixed system directories (never the caller's PATH).
import { accessSync, constants } from 'node:fs'
import { join } from 'node:path'
import type { Tool, ToolPaths } from './types.ts'

const DIRS = ['/usr/sbin', '/usr/bin', '/sbin', '/bin', '/run/current-system/sw/bin']
const TOOLS: Tool[] = ['mount', 'umount', 'findmnt', 'vhdimount', 'vhdiinfo']

/** First executable in DIRS per tool; a missing tool keeps its /usr/bin path and fails with ENOENT when used. */
export function resolveTools(dirs: string[] = DIRS): ToolPaths {
  const find = (t: Tool) => {
    for (const d of dirs) {
      try {
        accessSync(join(d, t), constants.X_OK)
        return join(d, t)
      } catch {}
    }
    return join('/usr/bin', t)
  }
  return Object.fromEntries(TOOLS.map((t) => [t, find(t)])) as ToolPaths
}
