// The one place a host's secrets are made: run by root in xoa bootstrap (the xo-bootstrap unit on systemd hosts
// and NixOS) and by `xoa up`, never by apply or a render. Everything the spec names is read first, so a bad file
// stops the run with its field before anything is written; then each secret of src/host/secrets.ts is generated
// when missing, or rewritten when what it holds changed. A second run writes nothing.
import { randomBytes } from 'node:crypto'
import { parse as parseToml } from 'smol-toml'
import { readFileAt, self, writeFileAt } from '../fs/at.ts'
import type { Meta } from '../fs/safe-dir.ts'
import type { RunMode } from '../host/layout.ts'
import { type HostSecret, hostSecrets, type SecretId } from '../host/secrets.ts'
import { renderXoServerSecrets } from '../render/xo-server-config.ts'
import { envFileContent } from '../render/xo-server-unit.ts'
import type { Spec } from '../spec/schema.ts'
import { readSecretFile } from '../spec/secret-file.ts'
import { envSecretRefs, settingsSecretRefs, settingsTree } from '../spec/secret-refs.ts'
import { lookupAccount } from '../util/accounts.ts'
import { XoaError } from '../util/errors.ts'

export interface SecretOutcome {
  path: string
  description: string
  outcome: 'created' | 'changed' | 'same' | 'read'
}

export interface RunTimeSecrets {
  outcomes: SecretOutcome[]
  /** For the health check's sign-in and recover-account-cli; never printed. */
  adminPassword: string
  /** xo.extraServerEnv's `{ file }` values, for `xoa up` to give xo-server (the unit reads the env file). */
  serverEnv: Record<string, string>
}

const MIN_PASSWORD = 8
const MIN_SESSION_SECRET = 16

export async function ensureSecrets(spec: Spec, mode: RunMode): Promise<RunTimeSecrets> {
  const list = hostSecrets(spec, mode)
  const at = (id: SecretId) => list.find((s) => s.id === id)!

  // 1. Read: the files the spec names, and what earlier runs generated. Nothing is written yet.
  const settings = settingsSecretRefs(spec.xo.settings).map((r) => ({
    keys: r.keys,
    value: readSecretFile(r.file, r.field),
  }))
  const serverEnv = Object.fromEntries(
    envSecretRefs(spec.xo.extraServerEnv).map((r) => [r.name, readSecretFile(r.file, r.field)]),
  )
  const pw = at('admin-password')
  const adminPassword = pw.declared
    ? readSecretFile(pw.path, 'webAdmin.passwordFile')
    : ((await readGenerated(pw.path))?.split('\n')[0] ?? randomBytes(18).toString('base64url'))
  if (adminPassword.length < MIN_PASSWORD)
    throw new XoaError(
      `${pw.declared ? 'webAdmin.passwordFile: ' : ''}${pw.path}: the admin password must have at least ${MIN_PASSWORD} characters`,
    )
  const session = at('session-secret')
  const sessionSecret =
    (await readGenerated(session.path))?.trim() ??
    (await adoptSessionSecret(at('xo-server-secrets').path)) ??
    randomBytes(32).toString('base64url')
  if (sessionSecret.length < MIN_SESSION_SECRET)
    throw new XoaError(
      `${session.path}: the session secret must have at least ${MIN_SESSION_SECRET} characters`,
      {
        hint: `remove ${session.path} to have a new one generated (signs every user out)`,
      },
    )

  // 2. Write what differs, each through the safe layer with its owner and mode.
  const gid = await serviceGid(spec)
  const contents: Record<SecretId, string> = {
    // No trailing newline: recover-account-cli is fed the password as typed.
    'admin-password': adminPassword,
    'session-secret': sessionSecret,
    'xo-server-secrets': renderXoServerSecrets(sessionSecret, spec, settingsTree(settings)).content,
    'xo-server-env': envFileContent(
      '# Managed by xoa (xo-bootstrap): xo.extraServerEnv values read from files. Do not edit.',
      serverEnv,
    ),
  }
  const outcomes: SecretOutcome[] = []
  for (const s of list) {
    if (s.declared) {
      outcomes.push({ path: s.path, description: s.description, outcome: 'read' })
      continue
    }
    const outcome = await writeFileAt(s.path, contents[s.id], meta(s, gid), {
      create: meta({ ...s, mode: s.group === 'root' ? 0o700 : 0o750 }, gid),
      // xoa owns these files outright: a link planted at the name is replaced, never followed.
      replaceSymlink: true,
    })
    outcomes.push({ path: s.path, description: s.description, outcome })
  }
  return { outcomes, adminPassword, serverEnv }
}

/** A secret xoa generated earlier, read without following a symlink; undefined when there is none. */
async function readGenerated(path: string): Promise<string | undefined> {
  const b = await readFileAt(path, { maxBytes: 64 * 1024 })
  return b === undefined || b.length === 0 ? undefined : b.toString('utf8')
}

/** The session secret of a config.z-secrets.toml an older xoa wrote (apply, `xoa up`): sessions survive. */
async function adoptSessionSecret(path: string): Promise<string | undefined> {
  try {
    const text = (await readGenerated(path)) ?? ''
    const http = (parseToml(text) as { http?: { sessionSecret?: unknown } }).http
    const s = http?.sessionSecret
    return typeof s === 'string' && s.length >= MIN_SESSION_SECRET ? s : undefined
  } catch {
    return undefined
  }
}

/** Root writes root:<service group>; anyone else (`xoa up` as a user) owns its secrets, 0600. */
function meta(s: Pick<HostSecret, 'group' | 'mode'>, gid: number | undefined): Meta {
  if (process.geteuid?.() !== 0) return self(s.mode & 0o700)
  return { uid: 0, gid: s.group === 'root' ? 0 : (gid ?? 0), mode: s.mode }
}

async function serviceGid(spec: Spec): Promise<number | undefined> {
  if (process.geteuid?.() !== 0) return undefined
  return (await lookupAccount(spec.service.user, spec.service.group)).gid
}
