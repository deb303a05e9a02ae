// Reading what is on disk: the certificate's names, dates and fingerprint, whether the key belongs to it, and
// whether xoa made it. `readCertificateInfo` is what `xoa status` and `xoa doctor` show.
import { createPrivateKey, X509Certificate as NodeX509 } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { type CertFacts, daysLeft, type ObservedCert } from './decide.ts'
import { isGeneratedByXoa, type LedgerEntry, readLedger } from './ledger.ts'
import * as x509 from './x509.ts'

export interface CertificateInfo {
  path: string
  subject: string
  issuer: string
  commonName: string
  dnsNames: string[]
  ipAddresses: string[]
  notBefore: string
  notAfter: string
  /** Whole days until notAfter; negative once expired. */
  daysLeft: number
  expired: boolean
  fingerprint: string
  generatedByXoa: boolean
}

/** The leaf certificate of a PEM file (a full chain starts with it). Throws with a plain reason. */
export function parseCertificatePem(text: string): CertFacts & { subject: string; issuer: string } {
  const block = leafPem(text)
  const cert = new x509.X509Certificate(block)
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension)
  const sans = san?.names.items ?? []
  return {
    subject: cert.subject,
    issuer: cert.issuer,
    names: {
      commonName: cert.subjectName.getField('CN')[0] ?? '',
      dns: sans.filter((n) => n.type === 'dns').map((n) => n.value),
      ips: sans.filter((n) => n.type === 'ip').map((n) => n.value),
    },
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    fingerprint: new NodeX509(block).fingerprint256,
  }
}

/** The first certificate of a PEM file: the server's own, when the file is a full chain. */
export function leafPem(text: string): string {
  const block = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(text)?.[0]
  if (!block) throw new Error('no PEM "BEGIN CERTIFICATE" block')
  return block
}

export async function readCertificateInfo(
  path: string,
  opts: { ledgerFile?: string; now?: Date } = {},
): Promise<CertificateInfo> {
  const facts = parseCertificatePem(await readFile(path, 'utf8'))
  const ledger = opts.ledgerFile ? readLedger(opts.ledgerFile) : []
  return certificateInfo(path, facts, isGeneratedByXoa(ledger, facts.fingerprint), opts.now ?? new Date())
}

export function certificateInfo(
  path: string,
  facts: CertFacts & { subject?: string; issuer?: string },
  generatedByXoa: boolean,
  now: Date,
): CertificateInfo {
  return {
    path,
    subject: facts.subject ?? `CN=${facts.names.commonName}`,
    issuer: facts.issuer ?? '',
    commonName: facts.names.commonName,
    dnsNames: facts.names.dns,
    ipAddresses: facts.names.ips,
    notBefore: facts.notBefore.toISOString(),
    notAfter: facts.notAfter.toISOString(),
    daysLeft: daysLeft(facts, now),
    expired: facts.notAfter.getTime() <= now.getTime(),
    fingerprint: facts.fingerprint,
    generatedByXoa,
  }
}

/** Everything `decideCertAction` needs to know about the key and certificate files. */
export async function observeCert(
  paths: { key: string; cert: string },
  ledger: LedgerEntry[],
): Promise<ObservedCert> {
  let keyText: string | undefined
  let certText: string | undefined
  try {
    keyText = await readIfExists(paths.key)
  } catch (e) {
    return { state: 'unreadable', file: 'key', reason: `${paths.key}: ${(e as Error).message}` }
  }
  try {
    certText = await readIfExists(paths.cert)
  } catch (e) {
    return { state: 'unreadable', file: 'cert', reason: `${paths.cert}: ${(e as Error).message}` }
  }
  if (keyText === undefined && certText === undefined) return { state: 'none' }
  if (certText === undefined) return { state: 'key-only' }
  let cert: CertFacts
  try {
    cert = parseCertificatePem(certText)
  } catch (e) {
    return { state: 'unreadable', file: 'cert', reason: `${paths.cert}: ${(e as Error).message}` }
  }
  const generatedByXoa = isGeneratedByXoa(ledger, cert.fingerprint)
  if (keyText === undefined) return { state: 'cert-only', cert, generatedByXoa }
  let keyMatches: boolean
  try {
    keyMatches = new NodeX509(leafPem(certText)).checkPrivateKey(createPrivateKey(keyText))
  } catch (e) {
    // An encrypted key lands here too: xo-server could not read it either.
    return { state: 'unreadable', file: 'key', reason: `${paths.key}: ${(e as Error).message}` }
  }
  return { state: 'present', cert, generatedByXoa, keyMatches }
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw e
  }
}
