// A minimal target prefix for `xoa apply --root`: the account files useradd/groupadd --root need.
import { spawnSync } from 'node:child_process'
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { type Run, XOA_BIN } from '../helpers.ts'

export function makeTargetRoot(root: string): string {
  mkdirSync(join(root, 'etc'), { recursive: true })
  writeFileSync(join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/bash\n')
  writeFileSync(join(root, 'etc', 'group'), 'root:x:0:\n')
  writeFileSync(join(root, 'etc', 'shadow'), 'root:*:19000:0:99999:7:::\n', { mode: 0o640 })
  writeFileSync(join(root, 'etc', 'gshadow'), 'root:*::\n', { mode: 0o640 })
  // Traversable by other accounts, so tests can act as the service account inside it.
  chmodSync(root, 0o755)
  return root
}

/**
 * A private copy of the bundled CLI for one test: the shared dist/xoa.mjs may be re-bundled by another run
 * while a long test is in the middle of its steps, and every step must run the same program.
 */
export function snapshotCli(dir: string): string {
  const bin = join(dir, 'xoa.mjs')
  copyFileSync(XOA_BIN, bin)
  return bin
}

export function xoaWith(bin: string, args: string[]): Run {
  const r = spawnSync(process.execPath, [bin, ...args], {
    env: { ...process.env, NO_COLOR: '1' },
    encoding: 'utf8',
    timeout: 120_000,
  })
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }
}
