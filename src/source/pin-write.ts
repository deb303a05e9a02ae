// Rewriting the pin file and committing it. The file is hand-kept and read by Nix too: keep its key order,
// indentation and final newline, and replace it atomically so a reader never sees half a file.
import { accessSync, constants } from 'node:fs'
import { dirname, relative } from 'node:path'
import { execa } from 'execa'
import { withParent } from '../fs/at.ts'
import { tool } from '../platform/tool.ts'
import { XoaError } from '../util/errors.ts'
import type { Pin } from './pin.ts'

const KEY_ORDER: (keyof Pin)[] = ['url', 'rev', 'version', 'date', 'channel']

/** Pure: the new file text; existing keys keep their place, new ones follow in the usual order. */
export function renderPin(original: string, pin: Pin): string {
  let doc: Record<string, unknown> = {}
  try {
    doc = JSON.parse(original) as Record<string, unknown>
  } catch {
    doc = {}
  }
  const indent = /\n([ \t]+)"/.exec(original)?.[1] ?? '  '
  const out: Record<string, unknown> = {}
  for (const k of Object.keys(doc)) out[k] = k in pin ? pin[k as keyof Pin] : doc[k]
  for (const k of KEY_ORDER) if (!(k in out) && pin[k] !== undefined) out[k] = pin[k]
  const text = JSON.stringify(out, null, indent)
  return original === '' || original.endsWith('\n') ? `${text}\n` : text
}

/** Can the pin be replaced? (Not when it sits in the Nix store or under a read-only /usr.) */
export function assertPinWritable(file: string): void {
  try {
    accessSync(dirname(file), constants.W_OK)
    accessSync(file, constants.W_OK)
  } catch (e) {
    throw new XoaError(`the pin file ${file} cannot be rewritten (${(e as NodeJS.ErrnoException).code})`, {
      hint:
        'copy it somewhere writable (e.g. /etc/xoa/xo-source.json) and set source.pinFile in the spec, or ' +
        'pass --pin-file; on NixOS update the flake checkout with `nix run .#update-xo`',
    })
  }
}

/** Replace the pin atomically (temp file in the same directory, same owner and mode, rename). */
export async function writePin(file: string, pin: Pin): Promise<void> {
  await withParent(file, {}, async (dir, name) => {
    const st = await dir.lstat(name)
    const original = (await dir.readFile(name))?.toString('utf8')
    if (!st || original === undefined)
      throw new XoaError(`the pin file ${file} does not exist`, { hint: 'run `xoa apply` to seed it' })
    await dir.writeFile(name, renderPin(original, pin), { uid: st.uid, gid: st.gid, mode: st.mode & 0o777 })
  })
}

/** Commit only the pin file in the git repository it lives in (the seed's `--commit-lock-file`). */
export async function commitPin(file: string, message: string): Promise<string> {
  const git = (args: string[], cwd: string) =>
    execa(tool('git'), args, { cwd, reject: false, env: { GIT_TERMINAL_PROMPT: '0' }, stdin: 'ignore' })
  const top = await git(['rev-parse', '--show-toplevel'], dirname(file))
  if (top.exitCode !== 0)
    throw new XoaError(`${file} is not in a git repository, so --commit has nothing to commit to`, {
      hint: 'drop --commit, or keep the pin file in a git checkout (e.g. your flake)',
    })
  const root = String(top.stdout).trim()
  const rel = relative(root, file)
  for (const args of [
    ['add', '--', rel],
    // --only: whatever else is staged in the user's repository stays out of this commit.
    ['commit', '--quiet', '--only', '-m', message, '--', rel],
  ]) {
    const r = await git(args, root)
    if (r.exitCode !== 0)
      throw new XoaError(`git ${args[0]} in ${root} failed: ${String(r.stderr).trim() || r.exitCode}`, {
        hint: 'the pin file is already rewritten; commit it yourself, or set git user.name/user.email',
      })
  }
  return String((await git(['rev-parse', 'HEAD'], root)).stdout).trim()
}
