// `xoa cert` end to end, checked with the real openssl.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { validateSpec } from '../../src/spec/load.ts'
import { generateSelfSigned } from '../../src/tls/generate.ts'
import { ledgerPath, recordGenerated } from '../../src/tls/ledger.ts'
import { desiredCertNames } from '../../src/tls/names.ts'
import { xoa } from '../helpers.ts'
import { expiredUserCertificate, openssl, sandbox, userCertificate } from './fixtures.ts'

const DAY = 86_400_000
const nobody = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim())
const nogroup = Number(execFileSync('getent', ['group', 'nogroup'], { encoding: 'utf8' }).split(':')[2])

const snapshot = (f: string) => {
  const st = statSync(f)
  return {
    bytes: readFileSync(f, 'utf8'),
    mtime: st.mtimeMs,
    ino: st.ino,
    mode: st.mode & 0o7777,
    uid: st.uid,
  }
}
const fingerprint = (cert: string) =>
  openssl(['x509', '-noout', '-fingerprint', '-sha256', '-in', cert]).trim().split('=')[1]

test('creates an 825-day certificate with the names, modes and owners the seed promises', (t) => {
  const sb = sandbox(t)
  const r = xoa(['cert', '--spec', sb.spec])
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, /created a self-signed certificate: CN=xo\.example\.test.*expires \d{4}-\d\d-\d\d/)

  const text = openssl(['x509', '-noout', '-text', '-in', sb.cert])
  assert.match(text, /Subject: CN = xo\.example\.test/)
  assert.match(
    text,
    /DNS:xo\.example\.test, DNS:localhost, IP Address:192\.0\.2\.10, IP Address:127\.0\.0\.1/,
  )
  assert.match(text, /CA:FALSE/)
  assert.match(text, /TLS Web Server Authentication/)
  const start = Date.parse(/Not Before: (.*GMT)/.exec(text)![1]!)
  const end = Date.parse(/Not After : (.*GMT)/.exec(text)![1]!)
  assert.equal((end - start) / DAY, 825)
  assert.ok(Math.abs(start - Date.now()) < DAY, 'valid from about now')

  const key = statSync(sb.key)
  assert.equal(key.mode & 0o7777, 0o600)
  assert.deepEqual([key.uid, key.gid], [nobody, nogroup])
  assert.equal(statSync(sb.cert).mode & 0o7777, 0o644)
  assert.equal(statSync(sb.sslDir).mode & 0o7777, 0o755)

  // The key belongs to the certificate, and the ledger knows the fingerprint openssl computes.
  const certPub = openssl(['x509', '-noout', '-pubkey', '-in', sb.cert])
  assert.equal(openssl(['pkey', '-pubout', '-in', sb.key]), certPub)
  assert.ok(readFileSync(sb.ledger, 'utf8').includes(fingerprint(sb.cert)!))
})

test('a second run changes nothing: same bytes, same mtime, same inode', (t) => {
  const sb = sandbox(t)
  assert.equal(xoa(['cert', '--spec', sb.spec]).status, 0)
  const before = [snapshot(sb.key), snapshot(sb.cert)]
  const r = xoa(['cert', '--spec', sb.spec])
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, /^kept the certificate: CN=xo\.example\.test.*\((82[45]) days\)/)
  assert.deepEqual([snapshot(sb.key), snapshot(sb.cert)], before)
})

test('changing xo.hostname renews with the new name', (t) => {
  const sb = sandbox(t)
  assert.equal(xoa(['cert', '--spec', sb.spec]).status, 0)
  const old = fingerprint(sb.cert)
  sb.write({ hostname: 'xo2.example.test', host: '192.0.2.10' })
  const r = xoa(['cert', '--spec', sb.spec])
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, /renewed the certificate because the names changed: CN=xo\.example\.test.*→ CN=xo2/)
  assert.match(openssl(['x509', '-noout', '-subject', '-in', sb.cert]), /CN = xo2\.example\.test/)
  assert.notEqual(fingerprint(sb.cert), old)
  assert.equal(statSync(sb.key).uid, nobody)
})

test('a certificate of xoa with 10 days left is renewed', async (t) => {
  const sb = sandbox(t)
  const spec = validateSpec(JSON.parse(readFileSync(sb.spec, 'utf8')))
  const old = await generateSelfSigned({
    names: desiredCertNames(spec, 'unused'),
    now: new Date(Date.now() - 815 * DAY),
  })
  mkdirSync(sb.sslDir)
  writeFileSync(sb.key, old.keyPem, { mode: 0o600 })
  writeFileSync(sb.cert, old.certPem)
  await recordGenerated(ledgerPath(spec), {
    fingerprint: old.fingerprint,
    cert: sb.cert,
    commonName: 'xo.example.test',
    notAfter: old.notAfter.toISOString(),
    generatedAt: new Date().toISOString(),
  })
  const check = xoa(['cert', '--spec', sb.spec, '--check'])
  assert.equal(check.status, 1)
  assert.match(check.stdout, /needs renewing because only 9 days remain/)
  assert.equal(readFileSync(sb.cert, 'utf8'), old.certPem, '--check wrote nothing')

  const r = xoa(['cert', '--spec', sb.spec])
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, /renewed the certificate because only 9 days remain/)
  assert.notEqual(fingerprint(sb.cert), old.fingerprint)
  const end = Date.parse(openssl(['x509', '-noout', '-enddate', '-in', sb.cert]).split('=')[1]!)
  assert.ok(end - Date.now() > 824 * DAY)
  assert.equal(xoa(['cert', '--spec', sb.spec, '--check']).status, 0)
})

test("the user's certificate from openssl req -x509 is never replaced, and is reported", (t) => {
  const sb = sandbox(t)
  const user = userCertificate(sb.dir, 'corp.example')
  mkdirSync(sb.sslDir)
  copyFileSync(user.key, sb.key)
  copyFileSync(user.cert, sb.cert)
  const before = [snapshot(sb.key), snapshot(sb.cert)]
  const r = xoa(['cert', '--spec', sb.spec])
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, /left the user's certificate alone: CN=corp\.example.*\(8\d days\)/)
  assert.match(r.stdout, new RegExp(`fingerprint ${fingerprint(sb.cert)}`))
  assert.match(r.stderr, /warning: its names .*CN=corp\.example.* differ from CN=xo\.example\.test/)
  assert.deepEqual([snapshot(sb.key), snapshot(sb.cert)], before)
  // 90 days left is fine for --check; the names are the user's choice.
  assert.equal(xoa(['cert', '--spec', sb.spec, '--check']).status, 0)
})

test("the user's expired certificate is never replaced either: a warning, the next step, --check fails", (t) => {
  const sb = sandbox(t)
  const user = expiredUserCertificate(sb.dir, 'xo.example.test')
  mkdirSync(sb.sslDir)
  copyFileSync(user.key, sb.key)
  copyFileSync(user.cert, sb.cert)
  const before = [snapshot(sb.key), snapshot(sb.cert)]
  const r = xoa(['cert', '--spec', sb.spec])
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, /left the user's certificate alone: CN=xo\.example\.test, .*EXPIRED on 2020-02-01/)
  assert.match(
    r.stderr,
    /warning: it expired on 2020-02-01.*install a renewed certificate, or remove both files/,
  )
  const check = xoa(['cert', '--spec', sb.spec, '--check', '--json'])
  assert.equal(check.status, 1)
  const report = JSON.parse(check.stdout)
  assert.equal(report.outcome, 'foreign')
  assert.equal(report.certificate.generatedByXoa, false)
  assert.equal(report.certificate.expired, true)
  assert.deepEqual([snapshot(sb.key), snapshot(sb.cert)], before)
})

test('a key that does not match the certificate is an error; nothing is touched', (t) => {
  const sb = sandbox(t)
  assert.equal(xoa(['cert', '--spec', sb.spec]).status, 0)
  const other = userCertificate(sb.dir, 'other')
  copyFileSync(other.key, sb.key)
  const before = [snapshot(sb.key), snapshot(sb.cert)]
  const r = xoa(['cert', '--spec', sb.spec])
  assert.equal(r.status, 1)
  assert.match(r.stderr, /private key \(xo\.ssl\.key\) does not belong to the certificate/)
  assert.match(r.stderr, /next: remove both files and run `xoa cert`/)
  assert.deepEqual([snapshot(sb.key), snapshot(sb.cert)], before)
  assert.equal(xoa(['cert', '--spec', sb.spec, '--check']).status, 1)
})

test('a key without a certificate is an error; an unreadable certificate is an error', (t) => {
  const sb = sandbox(t)
  const user = userCertificate(sb.dir, 'u')
  mkdirSync(sb.sslDir)
  copyFileSync(user.key, sb.key)
  const r = xoa(['cert', '--spec', sb.spec])
  assert.equal(r.status, 1)
  assert.match(r.stderr, /a private key exists but no certificate \(xo\.ssl\.cert\)/)
  writeFileSync(sb.cert, 'not a certificate\n')
  const u = xoa(['cert', '--spec', sb.spec])
  assert.equal(u.status, 1)
  assert.match(u.stderr, /certificate file cannot be read: .*certificate\.pem: no PEM/)
  assert.equal(readFileSync(sb.cert, 'utf8'), 'not a certificate\n')
})

test('--check on nothing exits 1 and writes nothing; --json reports the outcome', (t) => {
  const sb = sandbox(t)
  const r = xoa(['cert', '--spec', sb.spec, '--check'])
  assert.equal(r.status, 1)
  assert.match(r.stdout, /no certificate at .*certificate\.pem\nnext: xoa cert/)
  assert.throws(() => statSync(sb.sslDir), /ENOENT/)
  const made = xoa(['cert', '--spec', sb.spec, '--json'])
  assert.equal(made.status, 0, made.stderr)
  const report = JSON.parse(made.stdout)
  assert.equal(report.outcome, 'created')
  assert.equal(report.certificate.generatedByXoa, true)
  assert.equal(report.certificate.fingerprint, fingerprint(sb.cert))
  assert.equal(JSON.parse(xoa(['cert', '--spec', sb.spec, '--check', '--json']).stdout).outcome, 'kept')
})

test('ssl disabled or generation off: says so, exits 0, writes nothing', (t) => {
  const sb = sandbox(t)
  sb.write(undefined, { enable: false })
  const off = xoa(['cert', '--spec', sb.spec])
  assert.equal(off.status, 0, off.stderr)
  assert.match(off.stdout, /xo\.ssl\.enable is false/)
  sb.write(undefined, { generate: false })
  const nogen = xoa(['cert', '--spec', sb.spec])
  assert.equal(nogen.status, 0, nogen.stderr)
  assert.match(nogen.stdout, /xo\.ssl\.generate is false/)
  assert.throws(() => statSync(sb.sslDir), /ENOENT/)
  assert.throws(() => statSync(join(sb.dir, 'state')), /ENOENT/)
})

test('an unknown service account is an error with the next step; nothing is written', (t) => {
  const sb = sandbox(t)
  const doc = JSON.parse(readFileSync(sb.spec, 'utf8'))
  doc.service = { user: 'xoa-no-such-user', group: 'nogroup' }
  writeFileSync(sb.spec, JSON.stringify(doc))
  const r = xoa(['cert', '--spec', sb.spec])
  assert.equal(r.status, 1)
  assert.match(r.stderr, /service account.*"xoa-no-such-user" does not exist\nnext: `xoa apply` creates/)
  assert.throws(() => statSync(sb.cert), /ENOENT/)
})

test('xoa cert --help describes the command', () => {
  const r = xoa(['cert', '--help'])
  assert.equal(r.status, 0)
  assert.match(r.stdout, /--check/)
  assert.match(r.stdout, /never replaces/)
})

test("without xo.hostname the certificate carries the machine's host name", (t) => {
  const sb = sandbox(t)
  sb.write({})
  const r = xoa(['cert', '--spec', sb.spec, '--json'])
  assert.equal(r.status, 0, r.stderr)
  const name = hostname().toLowerCase()
  assert.equal(JSON.parse(r.stdout).certificate.commonName, name)
  const text = openssl(['x509', '-noout', '-text', '-in', sb.cert])
  assert.ok(text.includes(`Subject: CN = ${name}`))
  assert.ok(
    text.includes(`DNS:${name}, DNS:localhost, IP Address:127.0.0.1`),
    'no SAN for the 0.0.0.0 wildcard',
  )
})
