// A tool the engine is about to run, from the current platform, checked to be there: a host whose tools are
// elsewhere gets a message naming the tool, the path and the platform instead of `spawn … ENOENT`.
import { accessSync, constants } from 'node:fs'
import { XoaError } from '../util/errors.ts'
import { currentPlatform, PLATFORM_ENV } from './load.ts'
import { describePlatform, type Platform, type ToolName, toolPath } from './platform.ts'

export function hostTool(tool: ToolName, why: string, p: Platform = currentPlatform()): string {
  const path = toolPath(p, tool)
  try {
    accessSync(path, constants.X_OK)
  } catch {
    throw new XoaError(
      `${why} needs ${tool} at ${path} (platform ${describePlatform(p)}), which is not an executable there`,
      {
        hint: p.file
          ? `fix "${tool}" in ${p.file}, or install it there`
          : `install it, or set ${PLATFORM_ENV} to a platform file naming where ${tool} is (docs/platform.md)`,
      },
    )
  }
  return path
}

/** The current platform's path of a tool the caller runs and whose absence it reports itself (ENOENT). */
export function tool(t: ToolName): string {
  return toolPath(currentPlatform(), t)
}
