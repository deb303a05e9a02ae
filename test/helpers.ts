// Shared test helpers: run the bundled CLI as a user would, make temp dirs that clean up.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

export const REPO = resolve(import.meta.dirname, '..')
export const XOA_BIN = join(REPO, 'dist', 'xoa.mjs')

export interface Run {
  status: number
  stdout: string
  stderr: string
}

export function xoa(
  args: string[],
  opts: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Run {
  const r = spawnSync(process.execPath, [XOA_BIN, ...args], {
    input: opts.input,
    env: { ...process.env, NO_COLOR: '1', ...opts.env },
    cwd: opts.cwd,
    encoding: 'utf8',
    timeout: 120_000,
  })
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }
}

/** A fresh temp dir, removed when the test ends. */
export function tempDir(t: { after(fn: () => void): void }, prefix = 'xoa-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const a = s.address()
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))))
    })
  })
}
