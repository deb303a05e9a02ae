import assert from 'node:assert/strict'
import { statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { generateSelfSigned } from '../../src/tls/generate.ts'
import { observeCert, readCertificateInfo } from '../../src/tls/inspect.ts'
import { readLedger, recordGenerated } from '../../src/tls/ledger.ts'
import { tempDir } from '../helpers.ts'

const names = { commonName: 'a.test', dns: ['a.test', 'localhost'], ips: ['10.0.0.1', '::1'] }

test('readCertificateInfo: names, dates, days left, and whether xoa made it', async (t) => {
  const dir = tempDir(t)
  const now = new Date('2031-01-01T00:00:00Z')
  const made = await generateSelfSigned({ names, now })
  const cert = join(dir, 'c.pem')
  const ledgerFile = join(dir, 'secrets', 'tls-generated.json')
  writeFileSync(cert, made.certPem)

  const before = await readCertificateInfo(cert, { ledgerFile, now })
  assert.equal(before.generatedByXoa, false, 'no ledger yet: the certificate counts as the user’s')
  await recordGenerated(ledgerFile, {
    fingerprint: made.fingerprint,
    cert,
    commonName: 'a.test',
    notAfter: made.notAfter.toISOString(),
    generatedAt: now.toISOString(),
  })
  const info = await readCertificateInfo(cert, { ledgerFile, now })
  assert.equal(info.generatedByXoa, true)
  assert.equal(info.commonName, 'a.test')
  assert.deepEqual(info.dnsNames, ['a.test', 'localhost'])
  assert.equal(info.ipAddresses[0], '10.0.0.1')
  assert.equal(info.daysLeft, 824) // backdated five minutes
  assert.equal(info.expired, false)
  assert.match(info.fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/)
  const later = await readCertificateInfo(cert, { ledgerFile, now: new Date('2034-01-01T00:00:00Z') })
  assert.equal(later.expired, true)
  assert.ok(later.daysLeft < 0)
})

test('a full chain is read by its first (server) certificate, and the key check uses it', async (t) => {
  const dir = tempDir(t)
  const leaf = await generateSelfSigned({ names })
  const other = await generateSelfSigned({ names: { ...names, commonName: 'ca.test' } })
  const cert = join(dir, 'fullchain.pem')
  const key = join(dir, 'key.pem')
  writeFileSync(cert, `subject=leaf\n${leaf.certPem}${other.certPem}`)
  writeFileSync(key, leaf.keyPem)
  assert.equal((await readCertificateInfo(cert)).fingerprint, leaf.fingerprint)
  const o = await observeCert({ key, cert }, [])
  assert.deepEqual(o.state === 'present' && [o.keyMatches, o.generatedByXoa], [true, false])
  writeFileSync(key, other.keyPem)
  const m = await observeCert({ key, cert }, [])
  assert.equal(m.state === 'present' && m.keyMatches, false)
})

test('the ledger keeps distinct fingerprints, and a corrupt ledger is an error rather than empty', async (t) => {
  const dir = tempDir(t)
  const f = join(dir, 'l.json')
  const e = { cert: '/c', commonName: 'x', notAfter: '', generatedAt: '' }
  await recordGenerated(f, { ...e, fingerprint: 'A' })
  await recordGenerated(f, { ...e, fingerprint: 'B' })
  await recordGenerated(f, { ...e, fingerprint: 'A' })
  assert.deepEqual(
    readLedger(f).map((x) => x.fingerprint),
    ['B', 'A'],
  )
  writeFileSync(f, '{"something":"else"}')
  assert.throws(() => readLedger(f), /not an xoa certificate ledger/)
})

test('recording the first certificate makes the state dir 0755 and only secrets/ private', async (t) => {
  const state = join(tempDir(t), 'state')
  await recordGenerated(join(state, 'secrets', 'tls-generated.json'), {
    fingerprint: 'A',
    cert: '/c',
    commonName: 'x',
    notAfter: '',
    generatedAt: '',
  })
  assert.equal(statSync(state).mode & 0o777, 0o755)
  assert.equal(statSync(join(state, 'secrets')).mode & 0o777, 0o700)
})
