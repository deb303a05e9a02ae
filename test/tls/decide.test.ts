import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type CertFacts, decideCertAction, type ObservedCert } from '../../src/tls/decide.ts'
import type { CertNames } from '../../src/tls/names.ts'

const DAY = 86_400_000
const now = new Date('2030-06-01T12:00:00Z')
const names: CertNames = { commonName: 'xo.lan', dns: ['xo.lan', 'localhost'], ips: ['127.0.0.1', '::1'] }
const desired = { names }

function facts(daysLeft: number, n: CertNames = names): CertFacts {
  return {
    names: n,
    notBefore: new Date(now.getTime() - 100 * DAY),
    notAfter: new Date(now.getTime() + daysLeft * DAY),
    fingerprint: 'AA:BB',
  }
}
const ours = (cert: CertFacts, keyMatches = true): ObservedCert => ({
  state: 'present',
  cert,
  generatedByXoa: true,
  keyMatches,
})
const theirs = (cert: CertFacts, keyMatches = true): ObservedCert => ({
  state: 'present',
  cert,
  generatedByXoa: false,
  keyMatches,
})

test('nothing on disk: create', () => {
  assert.deepEqual(decideCertAction({ state: 'none' }, desired, now), { action: 'create' })
})

test("xoa's certificate with time and the right names: keep", () => {
  const d = decideCertAction(ours(facts(400)), desired, now)
  assert.equal(d.action, 'keep')
})

test('same names in another order, case and IPv6 spelling still count as the same', () => {
  const shuffled = {
    commonName: 'XO.lan',
    dns: ['localhost', 'xo.lan'],
    ips: ['0:0:0:0:0:0:0:1', '127.0.0.1'],
  }
  assert.equal(decideCertAction(ours(facts(400, shuffled)), desired, now).action, 'keep')
})

test('exactly 30 days left: keep; 29 days and 23 hours: renew', () => {
  assert.equal(decideCertAction(ours(facts(30)), desired, now).action, 'keep')
  const d = decideCertAction(ours(facts(30 - 1 / 24)), desired, now)
  assert.equal(d.action, 'renew')
  assert.match(d.action === 'renew' ? d.reason : '', /29 days remain/)
})

test("xoa's certificate expired: renew, saying when it expired", () => {
  const d = decideCertAction(ours(facts(-3)), desired, now)
  assert.equal(d.action, 'renew')
  assert.match(d.action === 'renew' ? d.reason : '', /expired on 2030-05-29/)
})

test('a changed CN renews', () => {
  const d = decideCertAction(ours(facts(400, { ...names, commonName: 'old.lan' })), desired, now)
  assert.equal(d.action, 'renew')
  assert.match(d.action === 'renew' ? d.reason : '', /names changed: CN=old\.lan.*→ CN=xo\.lan/)
})

test('a missing or extra SAN renews', () => {
  const fewer = decideCertAction(ours(facts(400, { ...names, ips: ['127.0.0.1'] })), desired, now)
  assert.equal(fewer.action, 'renew')
  const more = decideCertAction(ours(facts(400, { ...names, ips: [...names.ips, '10.0.0.1'] })), desired, now)
  assert.equal(more.action, 'renew')
})

test("the user's certificate is never replaced: fine, expiring, expired, other names", () => {
  const fine = decideCertAction(theirs(facts(400)), desired, now)
  assert.deepEqual(fine.action === 'foreign' && [fine.health, fine.warnings], ['ok', []])

  const soon = decideCertAction(theirs(facts(10)), desired, now)
  assert.equal(soon.action, 'foreign')
  assert.equal(soon.action === 'foreign' && soon.health, 'expiring')
  assert.match(soon.action === 'foreign' ? soon.warnings.join() : '', /10 days/)

  const expired = decideCertAction(theirs(facts(-1)), desired, now)
  assert.equal(expired.action, 'foreign')
  assert.equal(expired.action === 'foreign' && expired.health, 'expired')
  assert.match(expired.action === 'foreign' ? expired.warnings.join() : '', /expired on .*xoa cert/)

  const other = decideCertAction(theirs(facts(400, { ...names, commonName: 'corp.example' })), desired, now)
  assert.equal(other.action === 'foreign' && other.health, 'ok')
  assert.match(other.action === 'foreign' ? other.warnings.join() : '', /CN=corp\.example.*differ/)
})

test("the user's certificate dated in the future gets a clock warning", () => {
  const f = { ...facts(400), notBefore: new Date(now.getTime() + DAY) }
  const d = decideCertAction(theirs(f), desired, now)
  assert.match(d.action === 'foreign' ? d.warnings.join() : '', /not valid before.*clock/)
})

test('a key without a certificate is an error', () => {
  const d = decideCertAction({ state: 'key-only' }, desired, now)
  assert.equal(d.action, 'error')
  assert.match(d.action === 'error' ? d.message : '', /no certificate/)
})

test("a certificate without its key: xoa's is renewed, the user's is an error", () => {
  const o = decideCertAction({ state: 'cert-only', cert: facts(400), generatedByXoa: true }, desired, now)
  assert.equal(o.action, 'renew')
  const u = decideCertAction({ state: 'cert-only', cert: facts(400), generatedByXoa: false }, desired, now)
  assert.equal(u.action, 'error')
  assert.match(u.action === 'error' ? u.hint : '', /xo\.ssl\.key/)
})

test('a key that does not match the certificate is an error, whoever made it, even when expired', () => {
  for (const o of [ours(facts(400), false), theirs(facts(400), false), ours(facts(-5), false)]) {
    const d = decideCertAction(o, desired, now)
    assert.equal(d.action, 'error')
    assert.match(d.action === 'error' ? d.message : '', /does not belong/)
  }
})

test('an unreadable file is an error naming it', () => {
  const d = decideCertAction({ state: 'unreadable', file: 'key', reason: 'k.pem: bad' }, desired, now)
  assert.equal(d.action, 'error')
  assert.match(d.action === 'error' ? `${d.message} ${d.hint}` : '', /key file.*k\.pem: bad.*xo\.ssl\.key/)
})
