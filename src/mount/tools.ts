// Absolute paths of the brokered tools: the platform's (docs/platform.md), never the caller's PATH.
import { currentPlatform } from '../platform/load.ts'
import { type Platform, toolPath } from '../platform/platform.ts'
import type { Tool, ToolPaths } from './types.ts'

const TOOLS: Tool[] = ['mount', 'umount', 'findmnt', 'vhdimount', 'vhdiinfo']

/** Each brokered tool where the platform puts it; a missing file fails with ENOENT when a request needs it. */
export function resolveTools(p: Platform = currentPlatform()): ToolPaths {
  return Object.fromEntries(TOOLS.map((t) => [t, toolPath(p, t)])) as ToolPaths
}
