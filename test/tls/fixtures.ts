// Shared by the tls tests: a spec whose TLS paths and state live in a temp dir, owned by nobody/nogroup.
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from '../helpers.ts'

export interface TlsSandbox {
  dir: string
  spec: string
  key: string
  cert: string
  sslDir: string
  ledger: string
  write(xo?: Record<string, string>, ssl?: Record<string, boolean>): void
}

export function sandbox(t: { after(fn: () => void): void }): TlsSandbox {
  const dir = tempDir(t, 'xoa-tls-')
  const sslDir = join(dir, 'ssl')
  const sb: TlsSandbox = {
    dir,
    spec: join(dir, 'xoa.json'),
    key: join(sslDir, 'key.pem'),
    cert: join(sslDir, 'certificate.pem'),
    sslDir,
    ledger: join(dir, 'state', 'secrets', 'tls-generated.json'),
    write(xo = { hostname: 'xo.example.test', host: '192.0.2.10' }, ssl = {}) {
      const doc = {
        xo: { ...xo, stateDir: join(dir, 'state'), ssl: { dir: sslDir, key: sb.key, cert: sb.cert, ...ssl } },
        service: { user: 'nobody', group: 'nogroup' },
      }
      writeFileSync(sb.spec, JSON.stringify(doc))
    },
  }
  sb.write()
  return sb
}

export function openssl(args: string[], input?: string): string {
  return execFileSync('openssl', args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] })
}

/** A certificate made by `openssl req -x509`, as a user following the seed's instructions would. */
export function userCertificate(dir: string, cn: string): { key: string; cert: string } {
  const key = join(dir, 'user-key.pem')
  const cert = join(dir, 'user-cert.pem')
  openssl(
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '90'].concat([
      '-subj',
      `/CN=${cn}`,
    ]),
  )
  return { key, cert }
}

/** An already expired certificate from `openssl ca -selfsign` (openssl 3.0's req cannot backdate). */
export function expiredUserCertificate(dir: string, cn: string): { key: string; cert: string } {
  const ca = join(dir, 'ca')
  mkdirSync(ca)
  writeFileSync(join(ca, 'index.txt'), '')
  writeFileSync(join(ca, 'serial'), '01\n')
  writeFileSync(
    join(ca, 'ca.cnf'),
    `[ca]\ndefault_ca = my\n[my]\ndatabase = ${ca}/index.txt\nnew_certs_dir = ${ca}\nserial = ${ca}/serial\n` +
      'default_md = sha256\npolicy = any\nunique_subject = no\n[any]\ncommonName = supplied\n',
  )
  const key = join(ca, 'key.pem')
  const cert = join(ca, 'cert.pem')
  const csr = join(ca, 'req.csr')
  openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-subj', `/CN=${cn}`, '-out', csr])
  openssl(
    ['ca', '-batch', '-config', join(ca, 'ca.cnf'), '-selfsign', '-keyfile', key, '-in', csr].concat([
      '-startdate',
      '20200101000000Z',
      '-enddate',
      '20200201000000Z',
      '-out',
      cert,
    ]),
  )
  return { key, cert }
}
