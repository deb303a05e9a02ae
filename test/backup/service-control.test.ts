// The ServiceControl seam that `xoa upgrade` and `xoa up` plug into: what backup and restore ask of it, and when.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createBackup } from '../../src/backup/backup.ts'
import { restoreBackup, verifyBackup } from '../../src/backup/restore.ts'
import type { ServiceControl } from '../../src/backup/services.ts'
import { loadSpecFile } from '../../src/spec/load.ts'
import { makeHost } from './fixture.ts'
import { fingerprint, withDb } from './redis-server.ts'

/** Records calls; "xo-server" writes a key whenever it is running, so a snapshot taken while it runs shows it. */
function recordingControl(socket: string, calls: string[]): ServiceControl {
  let active = true
  return {
    name: 'recording',
    manages: true,
    isActive: async () => active,
    stop: async () => {
      calls.push('stop')
      active = false
    },
    start: async () => {
      calls.push('start')
      active = true
      await withDb(socket, 0, (c) => c.incr('xo:started'))
    },
  }
}

test('backup stops a running xo-server for the snapshot and starts it again', async (t) => {
  const h = await makeHost(t)
  process.env.XOA_TEST_ROOT = h.env.XOA_TEST_ROOT
  const spec = loadSpecFile(h.specFile)
  const calls: string[] = []
  const r = await createBackup(spec, { services: recordingControl(h.socket, calls) })
  assert.deepEqual(calls, ['stop', 'start'])
  assert.equal(r.consistency.files, 'service-stopped')

  const live: string[] = []
  const l = await createBackup(spec, { services: recordingControl(h.socket, live), live: true })
  assert.deepEqual(live, [], '--live leaves xo-server alone')
  assert.equal(l.consistency.files, 'live')
})

test('restore stops, restores, starts, then checks health and reports it', async (t) => {
  const h = await makeHost(t)
  process.env.XOA_TEST_ROOT = h.env.XOA_TEST_ROOT
  const spec = loadSpecFile(h.specFile)
  const calls: string[] = []
  const { archive } = await createBackup(spec, { services: recordingControl(h.socket, []), live: true })
  const before = await fingerprint(h.socket)
  await withDb(h.socket, 0, (c) => c.del('xo:user:u1'))

  const v = await verifyBackup(spec, archive)
  t.after(() => v.dispose())
  assert.equal(v.specChanged, false)
  const r = await restoreBackup(spec, v, {
    services: recordingControl(h.socket, calls),
    checkHealth: async () => {
      calls.push('health')
      return { healthy: false, reason: 'sign-in as admin@xoa.local answered 401' }
    },
  })
  assert.deepEqual(calls, ['stop', 'start', 'health'])
  assert.deepEqual(r.health, {
    checked: true,
    healthy: false,
    reason: 'sign-in as admin@xoa.local answered 401',
  })
  // The restored state plus what the restarted "xo-server" wrote: the restore happened before the start.
  const after = await fingerprint(h.socket)
  const started = Object.keys(after).filter((k) => !(k in before))
  assert.deepEqual(started, [`0:${Buffer.from('xo:started').toString('hex')}`])
  for (const k of Object.keys(before)) assert.deepEqual(after[k], before[k], k)
})
