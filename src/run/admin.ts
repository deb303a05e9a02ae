// The web admin, created before xo-server first listens, so the well-known admin@admin.net/admin never
// exists: xo-server creates it only when Redis holds no user, and by then ours is there.
import { randomBytes } from 'node:crypto'
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { self, writeFileAt } from '../fs/at.ts'
import { hostTool } from '../platform/tool.ts'
import { statePaths } from '../spec/paths.ts'
import type { Spec } from '../spec/schema.ts'
import { XoaError } from '../util/errors.ts'
import { answerOnTerminal } from './on-terminal.ts'
import { countUsers } from './redis.ts'

export interface AdminPassword {
  password: string
  file: string
  generated: boolean
}

/** The declared password file, or one generated once (0600) under the state dir's secrets. */
export async function readOrCreateAdminPassword(spec: Spec): Promise<AdminPassword> {
  const file = statePaths(spec).adminPasswordFile
  try {
    const st = statSync(file)
    if ((st.mode & 0o077) !== 0)
      throw new XoaError(`${file} is readable by others (mode ${(st.mode & 0o777).toString(8)})`, {
        hint: `chmod 600 ${file}`,
      })
    const password = readFileSync(file, 'utf8').split('\n')[0] ?? ''
    if (password.length < 8) throw new XoaError(`${file}: the admin password must have at least 8 characters`)
    return { password, file, generated: false }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
  }
  if (spec.webAdmin.passwordFile)
    throw new XoaError(`webAdmin.passwordFile: ${file} does not exist`, {
      hint: `write the password into it (mode 600), or remove webAdmin.passwordFile to have one generated`,
    })
  const password = randomBytes(18).toString('base64url')
  // Reading follows a declared file's symlinks (NixOS secret managers link theirs); writing ours never does.
  await writeFileAt(file, `${password}\n`, self(0o600), { create: self(0o700) })
  return { password, file, generated: true }
}

export interface ReleaseRunner {
  /** The release directory (contains node/ and xo/). */
  release: string
  /** Environment xo-server runs with (XDG_CONFIG_HOME so the CLI reads the same config). */
  env: Record<string, string>
  uid?: number
  gid?: number
}

export type AdminOutcome =
  | { created: false }
  | { created: true; email: string; passwordFile: string; generated: boolean }

/** Create the declared admin with the release's own recover-account-cli when Redis has no user yet. */
export async function ensureWebAdmin(spec: Spec, run: ReleaseRunner): Promise<AdminOutcome> {
  if ((await countUsers(spec.redis.socket)) > 0) return { created: false }
  const pw = await readOrCreateAdminPassword(spec)
  const cli = join(run.release, 'xo', 'packages', 'xo-server', 'dist', 'recover-account-cli.mjs')
  const command = [join(run.release, 'node', 'bin', 'node'), cli, spec.webAdmin.email]
  // As the service account with its supplementary groups (redis-xo: the socket), like the unit runs
  // xo-server; a plain uid/gid switch would drop them. The password is typed on a terminal, never argv.
  const argv = run.uid === undefined ? command : asAccount(run.uid, run.gid ?? run.uid, command)
  const r = await answerOnTerminal(argv, /Password[^\n]*:/, pw.password, { env: run.env, timeoutMs: 120_000 })
  if (r.code !== 0 || (await countUsers(spec.redis.socket)) === 0)
    throw new XoaError(`creating the web admin ${spec.webAdmin.email} failed: ${r.output.trim()}`, {
      hint: 'check that Redis answers on redis.socket and that the release is complete (xoa releases)',
    })
  return { created: true, email: spec.webAdmin.email, passwordFile: pw.file, generated: pw.generated }
}

/** Run `command` as uid/gid with that account's supplementary groups (util-linux setpriv). */
export function asAccount(uid: number, gid: number, command: string[]): string[] {
  return [
    hostTool('setpriv', 'running a command as the service account'),
    `--reuid=${uid}`,
    `--regid=${gid}`,
    '--init-groups',
    '--',
    ...command,
  ]
}
