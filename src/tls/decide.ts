// What `xoa cert` should do, decided from what is on disk and what the spec wants. Pure: no clock, no files.
import { type CertNames, describeNames, sameNames } from './names.ts'

export const VALID_DAYS = 825
export const RENEW_BEFORE_DAYS = 30
const DAY_MS = 86_400_000

/** What the certificate on disk says about itself (see inspect.ts). */
export interface CertFacts {
  names: CertNames
  notBefore: Date
  notAfter: Date
  /** SHA-256 of the DER, as `openssl x509 -fingerprint -sha256` prints it. */
  fingerprint: string
}

export type ObservedCert =
  | { state: 'none' }
  | { state: 'key-only' }
  | { state: 'cert-only'; cert: CertFacts; generatedByXoa: boolean }
  | { state: 'present'; cert: CertFacts; generatedByXoa: boolean; keyMatches: boolean }
  /** A file is there but cannot be read as PEM: never guess, never overwrite. */
  | { state: 'unreadable'; file: 'key' | 'cert'; reason: string }

export interface DesiredCert {
  names: CertNames
}

export type CertAction =
  | { action: 'create' }
  | { action: 'keep'; cert: CertFacts }
  | { action: 'renew'; reason: string; cert: CertFacts }
  /** The user's certificate: reported, never replaced; `warnings` say what is wrong with it, if anything. */
  | { action: 'foreign'; cert: CertFacts; health: CertHealth; warnings: string[] }
  | { action: 'error'; message: string; hint: string }

/** expired and expiring make `xoa cert --check` fail; a foreign certificate's names are the user's business. */
export type CertHealth = 'ok' | 'expiring' | 'expired'

export function daysLeft(cert: Pick<CertFacts, 'notAfter'>, now: Date): number {
  return Math.floor((cert.notAfter.getTime() - now.getTime()) / DAY_MS)
}

export function decideCertAction(observed: ObservedCert, desired: DesiredCert, now: Date): CertAction {
  switch (observed.state) {
    case 'none':
      return { action: 'create' }
    case 'unreadable':
      return {
        action: 'error',
        message: `the ${observed.file === 'key' ? 'key' : 'certificate'} file cannot be read: ${observed.reason}`,
        hint: `fix or remove the file (xo.ssl.${observed.file}), then run \`xoa cert\` again`,
      }
    case 'key-only':
      return {
        action: 'error',
        message: 'a private key exists but no certificate (xo.ssl.cert)',
        hint: 'put the matching certificate next to it, or remove the key so that `xoa cert` makes a new pair',
      }
    case 'cert-only':
      if (observed.generatedByXoa)
        return { action: 'renew', reason: 'its private key is missing', cert: observed.cert }
      return {
        action: 'error',
        message: 'a certificate exists but no private key (xo.ssl.key), and xoa did not generate it',
        hint: 'put your private key at xo.ssl.key (mode 0600), or remove the certificate to let `xoa cert` make one',
      }
    case 'present':
      break
  }
  const { cert } = observed
  if (!observed.keyMatches)
    return {
      action: 'error',
      message: 'the private key (xo.ssl.key) does not belong to the certificate (xo.ssl.cert)',
      hint: observed.generatedByXoa
        ? 'remove both files and run `xoa cert` to make a new pair'
        : 'put the key that matches your certificate at xo.ssl.key',
    }
  const left = daysLeft(cert, now)
  const expired = cert.notAfter.getTime() <= now.getTime()
  const expiring = cert.notAfter.getTime() - now.getTime() < RENEW_BEFORE_DAYS * DAY_MS
  const namesChanged = !sameNames(cert.names, desired.names)
  if (!observed.generatedByXoa) {
    const warnings: string[] = []
    if (expired)
      warnings.push(
        `it expired on ${isoDay(cert.notAfter)}: browsers and xo-cli will refuse it; install a renewed certificate, or remove both files and run \`xoa cert\` for a self-signed one`,
      )
    else if (expiring) warnings.push(`it expires on ${isoDay(cert.notAfter)} (${left} days): renew it soon`)
    if (cert.notBefore.getTime() > now.getTime())
      warnings.push(`it is not valid before ${cert.notBefore.toISOString()}: check the clock`)
    if (namesChanged)
      warnings.push(`its names (${describeNames(cert.names)}) differ from ${describeNames(desired.names)}`)
    const health: CertHealth = expired ? 'expired' : expiring ? 'expiring' : 'ok'
    return { action: 'foreign', cert, health, warnings }
  }
  if (expired) return { action: 'renew', reason: `it expired on ${isoDay(cert.notAfter)}`, cert }
  if (expiring)
    return {
      action: 'renew',
      reason: `only ${left} days remain (renewed under ${RENEW_BEFORE_DAYS})`,
      cert,
    }
  if (namesChanged)
    return {
      action: 'renew',
      reason: `the names changed: ${describeNames(cert.names)} → ${describeNames(desired.names)}`,
      cert,
    }
  return { action: 'keep', cert }
}

export function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10)
}
