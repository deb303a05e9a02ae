// `xoa cert` as a function: observe the files, decide, and (unless only checking) create or renew xoa's own
// certificate. Returns a report the CLI prints and `xoa status`/`xoa doctor` can reuse.

import { lstat, stat } from 'node:fs/promises'
import { hostname } from 'node:os'
import { self, withParent, writeFileAt } from '../fs/at.ts'
import type { Owner } from '../fs/safe-dir.ts'
import type { Spec } from '../spec/schema.ts'
import { lookupAccount } from '../util/accounts.ts'
import { type CertAction, decideCertAction, RENEW_BEFORE_DAYS } from './decide.ts'
import { generateSelfSigned } from './generate.ts'
import { type CertificateInfo, certificateInfo, observeCert, parseCertificatePem } from './inspect.ts'
import { ledgerPath, readLedger, recordGenerated } from './ledger.ts'
import { desiredCertNames } from './names.ts'

export type CertOutcome =
  | 'disabled' // xo.ssl.enable is false
  | 'created'
  | 'renewed'
  | 'kept'
  | 'foreign' // the user's certificate, left alone
  | 'missing' // none, and xoa may not (or was asked not to) create one
  | 'would-renew' // xoa's certificate needs renewing, but this run only reports
  | 'error'

export interface CertReport {
  outcome: CertOutcome
  /** Fine as it stands: what `--check` turns into exit 0. */
  ok: boolean
  reason?: string
  warnings: string[]
  error?: { message: string; hint: string }
  key: string
  cert: string
  certificate?: CertificateInfo
  /** False when xo.ssl.generate is off or only checking. */
  mayWrite: boolean
}

export interface EnsureOptions {
  /** Only report; write nothing. */
  check?: boolean
  now?: Date
  machineHostname?: string
}

export async function ensureCertificate(spec: Spec, opts: EnsureOptions = {}): Promise<CertReport> {
  const { ssl } = spec.xo
  const now = opts.now ?? new Date()
  const mayWrite = ssl.enable && ssl.generate && !opts.check
  const base = { key: ssl.key, cert: ssl.cert, mayWrite, warnings: [] as string[] }
  if (!ssl.enable) return { ...base, outcome: 'disabled', ok: true }

  const ledgerFile = ledgerPath(spec)
  let ledger: ReturnType<typeof readLedger>
  try {
    ledger = readLedger(ledgerFile)
  } catch (e) {
    throw new TlsSetupError(
      `cannot read the record of certificates xoa generated: ${(e as Error).message}`,
      `fix or remove ${ledgerFile} (without it, every certificate present counts as yours and is left alone)`,
    )
  }
  const names = desiredCertNames(spec, opts.machineHostname ?? hostname())
  const observed = await observeCert(ssl, ledger)
  const decision = decideCertAction(observed, { names }, now)
  base.warnings.push(...(await dirWarnings(ssl.dir)))
  const info = (a: CertAction) =>
    'cert' in a ? certificateInfo(ssl.cert, a.cert, a.action !== 'foreign', now) : undefined

  switch (decision.action) {
    case 'error':
      return {
        ...base,
        outcome: 'error',
        ok: false,
        error: { message: decision.message, hint: decision.hint },
      }
    case 'keep':
      if (mayWrite) await ensureKeyOwnership(ssl.key, await serviceOwner(spec))
      return { ...base, outcome: 'kept', ok: true, certificate: info(decision) }
    case 'foreign':
      base.warnings.push(...decision.warnings, ...(await foreignKeyWarnings(ssl.key)))
      return { ...base, outcome: 'foreign', ok: decision.health === 'ok', certificate: info(decision) }
    case 'create':
    case 'renew': {
      const reason = decision.action === 'renew' ? decision.reason : undefined
      if (!mayWrite) {
        const outcome = decision.action === 'create' ? 'missing' : 'would-renew'
        return { ...base, outcome, ok: false, reason, certificate: info(decision) }
      }
      const owner = await serviceOwner(spec)
      const made = await generateSelfSigned({ names, now })
      // Recorded first: if we stop half-way, the new certificate is still known to be ours.
      await recordGenerated(ledgerFile, {
        fingerprint: made.fingerprint,
        cert: ssl.cert,
        commonName: names.commonName,
        notAfter: made.notAfter.toISOString(),
        generatedAt: now.toISOString(),
      })
      // A symlink planted at either path is replaced (rename over the link), never followed.
      const put = { create: self(0o755), replaceSymlink: true }
      await writeFileAt(ssl.key, made.keyPem, { ...owner, mode: 0o600 }, put)
      await writeFileAt(ssl.cert, made.certPem, self(0o644), put)
      const certificate = certificateInfo(ssl.cert, parseCertificatePem(made.certPem), true, now)
      return { ...base, outcome: reason ? 'renewed' : 'created', ok: true, reason, certificate }
    }
  }
}

async function serviceOwner(spec: Spec): Promise<Owner> {
  try {
    return await lookupAccount(spec.service.user, spec.service.group)
  } catch (e) {
    throw new TlsSetupError(
      `cannot give the key to the service account (service.user/service.group): ${(e as Error).message}`,
      '`xoa apply` creates the account; or set service.user and service.group to an existing account',
    )
  }
}

/** xoa's own key must stay 0600 and owned by the service account; fixing it does not touch the contents. */
async function ensureKeyOwnership(key: string, owner: Owner): Promise<void> {
  await withParent(key, {}, async (dir, name) => {
    // A link planted in place of the key must not make root chown whatever it points at; setMeta refuses it
    // too (and a hard link), this only gives the message its context.
    if ((await dir.lstat(name))?.isSymbolicLink())
      throw new TlsSetupError(
        `xo.ssl.key (${key}) is a symlink; xoa keeps the key of its own certificate as a regular file`,
        `replace the link with the key file itself, or remove ${key} and the certificate and run \`xoa cert\``,
      )
    await dir.setMeta(name, { ...owner, mode: 0o600 })
  })
}

async function foreignKeyWarnings(key: string): Promise<string[]> {
  const st = await stat(key)
  return st.mode & 0o004 ? [`the private key ${key} is readable by every user: chmod 600 ${key}`] : []
}

/** Anyone but root who can write the certificate directory can swap the key xo-server trusts. */
async function dirWarnings(dir: string): Promise<string[]> {
  try {
    const st = await lstat(dir)
    if (st.uid !== 0 || st.mode & 0o022)
      return [
        `${dir} (xo.ssl.dir) is writable by someone other than root: chown root: ${dir} && chmod 755 ${dir}`,
      ]
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
  }
  return []
}

export class TlsSetupError extends Error {
  readonly hint: string
  constructor(message: string, hint: string) {
    super(message)
    this.name = 'TlsSetupError'
    this.hint = hint
  }
}

export { RENEW_BEFORE_DAYS }
