// A self-signed server certificate made in-process with WebCrypto: no openssl child, no key on any argv.
import { X509Certificate as NodeX509, randomBytes, webcrypto } from 'node:crypto'
import { VALID_DAYS } from './decide.ts'
import type { CertNames } from './names.ts'
import * as x509 from './x509.ts'

// ECDSA P-256: every browser, curl and Node accepts it, keys are made instantly, and the handshake is cheaper
// than with RSA 2048 at a comparable strength (128-bit). See docs/tls.md.
const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const
// A few minutes of slack so a client whose clock lags a little does not see "not yet valid".
const BACKDATE_MS = 5 * 60_000
const DAY_MS = 86_400_000

export interface GeneratedCert {
  keyPem: string
  certPem: string
  fingerprint: string
  notBefore: Date
  notAfter: Date
}

export interface GenerateOptions {
  names: CertNames
  /** The clock, injectable so tests can make a certificate that is about to expire. */
  now?: Date
  validDays?: number
}

export async function generateSelfSigned(opts: GenerateOptions): Promise<GeneratedCert> {
  const crypto = webcrypto as unknown as Crypto
  const now = opts.now ?? new Date()
  // Whole seconds: X.509 times have no fractions, and notAfter - notBefore must be exactly the validity.
  const notBefore = new Date(Math.floor((now.getTime() - BACKDATE_MS) / 1000) * 1000)
  const notAfter = new Date(notBefore.getTime() + (opts.validDays ?? VALID_DAYS) * DAY_MS)
  const keys = (await crypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerial(),
      name: [{ CN: [opts.names.commonName] }, { O: ['xoa self-signed'] }],
      notBefore,
      notAfter,
      keys,
      signingAlgorithm: ALGORITHM,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([
          ...opts.names.dns.map((value) => ({ type: 'dns' as const, value })),
          ...opts.names.ips.map((value) => ({ type: 'ip' as const, value })),
        ]),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      ],
    },
    crypto,
  )
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey('pkcs8', keys.privateKey))
  const certPem = `${cert.toString('pem').trim()}\n`
  return {
    keyPem: pem('PRIVATE KEY', pkcs8),
    certPem,
    fingerprint: new NodeX509(certPem).fingerprint256,
    notBefore,
    notAfter,
  }
}

/** 16 random bytes, positive (high bit clear) and without a leading zero byte, as RFC 5280 asks. */
function randomSerial(): string {
  const b = randomBytes(16)
  b[0] = ((b[0] ?? 0) & 0x7f) | 0x01
  return b.toString('hex')
}

function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? []
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`
}
