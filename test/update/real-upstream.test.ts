// Opt-in: the channels of the real Xen Orchestra history. XO_SOURCE_URL=<git url of xen-orchestra>.
// Starts from the shipped pin and checks what each channel resolves to against the rules upstream follows:
// latest is a `feat: release X.Y.Z` commit, stable is the release CHANGELOG.md marks stable, master is the tip.
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { parseReleaseSubject } from '../../src/source/channels.ts'
import { REPO, tempDir, xoa } from '../helpers.ts'

const url = process.env.XO_SOURCE_URL

test('real XO: latest, stable and master resolve from the shipped pin', {
  skip: !url && 'skipped: XO_SOURCE_URL not set',
  timeout: 30 * 60_000,
}, (t) => {
  const dir = tempDir(t, 'xoa-real-update-')
  const shipped = JSON.parse(readFileSync(join(REPO, 'xo-source.json'), 'utf8'))
  const pin = join(dir, 'xo-source.json')
  writeFileSync(pin, `${JSON.stringify({ ...shipped, url }, null, 2)}\n`)
  const spec = join(dir, 'xoa.json')
  writeFileSync(spec, JSON.stringify({ xo: { stateDir: join(dir, 'state') }, source: { pinFile: pin } }))
  const seen: Record<string, { version: string; rev: string; subject: string; direction: string }> = {}
  for (const channel of ['latest', 'stable', 'master']) {
    const r = xoa(['update', '--spec', spec, '--channel', channel, '--check', '--json'])
    assert.ok(r.status === 0 || r.status === 10, `${channel}: exit ${r.status}\n${r.stderr}`)
    const j = JSON.parse(r.stdout)
    seen[channel] = { ...j.to, direction: j.direction }
    t.diagnostic(`${channel}: ${j.to.version} ${j.to.rev} ${j.to.date} "${j.to.subject}" (${j.direction})`)
  }
  assert.equal(parseReleaseSubject(seen.latest!.subject), seen.latest!.version)
  assert.equal(parseReleaseSubject(seen.stable!.subject), seen.stable!.version)
  assert.match(seen.master!.version, /^\d+\.\d+\.\d+(-dev)?$/)
  assert.equal(readFileSync(pin, 'utf8').includes(shipped.rev), true, '--check never rewrites the pin')
})
