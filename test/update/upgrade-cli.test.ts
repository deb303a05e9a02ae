// `xoa upgrade` as the scheduled xoa-update.service runs it, when nothing is new: exit 0, "nothing to do", and
// nothing built, backed up, switched or restarted; the run is recorded for `xoa status`.
import assert from 'node:assert/strict'
import { chmodSync, existsSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { runtimeEnv } from '../build/helpers.ts'
import { tempDir, xoa } from '../helpers.ts'
import { commitDate, createUpstream, writePinFile } from './upstream.ts'

test('a scheduled upgrade with nothing new on the channel changes nothing and says so', (t) => {
  const root = tempDir(t, 'xoa-upgrade-cli-')
  chmodSync(root, 0o755) // as root, the build runs as nobody
  const up = createUpstream(join(root, 'upstream'))
  const pin = join(root, 'xo-source.json')
  writePinFile(pin, up.dir, up.revs['1.2.0']!, '1.2.0', commitDate(up.dir, up.revs['1.2.0']!))
  const state = join(root, 'state')
  const spec = join(root, 'xoa.json')
  writeFileSync(
    spec,
    JSON.stringify({
      xo: {
        stateDir: state,
        dataDir: join(root, 'data'),
        tempDir: join(root, 'tmp'),
        mountsDir: join(root, 'mounts'),
      },
      source: { pinFile: pin },
      service: { user: 'nobody', group: 'nogroup' },
      updates: { channel: 'latest', schedule: 'daily' },
    }),
  )
  const built = xoa(['build', '--spec', spec], { env: runtimeEnv })
  assert.equal(built.status, 0, built.stderr + built.stdout)
  const current = readlinkSync(join(state, 'current'))
  const releases = readdirSync(join(state, 'releases')).sort()
  const logs = readdirSync(join(state, 'logs')).sort()
  const pinText = readFileSync(pin, 'utf8')

  const r = xoa(['upgrade', '--spec', spec], { env: runtimeEnv })
  assert.equal(r.status, 0, r.stderr + r.stdout)
  assert.match(r.stdout, /xoa upgrade \(channel latest\): nothing to do/)
  assert.match(r.stdout, /already at 1\.2\.0/)
  assert.match(r.stdout, /nothing built, backed up or restarted/)
  assert.equal(readlinkSync(join(state, 'current')), current)
  assert.deepEqual(readdirSync(join(state, 'releases')).sort(), releases)
  assert.equal(existsSync(join(state, 'backups')), false, 'no backup')
  assert.equal(readFileSync(pin, 'utf8'), pinText)
  assert.deepEqual(readdirSync(join(state, 'logs')).sort(), [...logs, 'upgrade-last.json'].sort())
  const last = JSON.parse(readFileSync(join(state, 'logs', 'upgrade-last.json'), 'utf8'))
  assert.equal(last.outcome, 'nothing-to-do')
  assert.equal(last.channel, 'latest')
  assert.equal(last.from, `1.2.0 (${up.revs['1.2.0']!.slice(0, 10)})`)
  assert.equal(last.to, last.from)
  assert.match(last.when, /^\d{4}-\d\d-\d\dT/)

  // --json: the same record for machines; a channel behind the pin is no reason to go back.
  const j = xoa(['upgrade', '--spec', spec, '--channel', 'stable', '--json'], { env: runtimeEnv })
  assert.equal(j.status, 0, j.stderr)
  const rec = JSON.parse(j.stdout)
  assert.equal(rec.outcome, 'nothing-to-do')
  assert.match(
    rec.reason,
    /channel stable \(1\.1\.0\) is not newer than 1\.2\.0; xoa upgrade never goes back without --allow-downgrade/,
  )
  assert.equal(readlinkSync(join(state, 'current')), current)
  assert.deepEqual(readdirSync(join(state, 'releases')).sort(), releases, 'nothing built')
  assert.equal(readFileSync(pin, 'utf8'), pinText)

  assert.equal(xoa(['upgrade', '--spec', spec, '--channel', 'nightly']).status, 2)
  assert.equal(xoa(['upgrade', '--spec', spec, '--health-timeout', '0']).status, 2)
})
