import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ciNodeVersions, lowestMajor, nodeMajorFor, workspaceManifests } from '../../src/build/engines.ts'
import { buildKey, RELEASE_ID, releaseId } from '../../src/build/key.ts'
import { chooseResources } from '../../src/build/resources.ts'
import { buildCommand } from '../../src/build/script.ts'
import { type Release, releasesToPrune } from '../../src/build/store.ts'

test('lowestMajor reads the lower bound of engine ranges', () => {
  assert.equal(lowestMajor('>=22.12'), 22)
  assert.equal(lowestMajor('>=8.10'), 8)
  assert.equal(lowestMajor('^20.17.0'), 20)
  assert.equal(lowestMajor('^18 || >=22'), 18)
  assert.equal(lowestMajor('>=18 <23'), 18)
  assert.equal(lowestMajor('22.x'), 22)
  assert.equal(lowestMajor('<23'), undefined)
  assert.equal(lowestMajor('*'), undefined)
})

test('the Node major is the strictest declared lower bound, never below the floor', () => {
  assert.equal(nodeMajorFor(['>=14', '>=22.3', '>=20.17']), 22)
  assert.equal(nodeMajorFor(['>=6']), 22)
  assert.equal(nodeMajorFor(['>=24.1', '>=22.12']), 24)
  assert.equal(nodeMajorFor([], 20), 20)
})

test('workspace package.json files are found from the root workspaces globs', () => {
  const files = [
    'package.json',
    '@xen-orchestra/web/package.json',
    '@vates/fuse-vhd/package.json',
    'packages/xo-server/package.json',
    'packages/xo-server/node_modules/x/package.json',
    'docs/package.json',
  ]
  assert.deepEqual(workspaceManifests({ workspaces: ['@*/*', 'packages/*'] }, files), [
    '@xen-orchestra/web/package.json',
    '@vates/fuse-vhd/package.json',
    'packages/xo-server/package.json',
  ])
  assert.deepEqual(workspaceManifests({ workspaces: { packages: ['docs'] } }, files), ['docs/package.json'])
  assert.deepEqual(workspaceManifests({}, files), [])
})

test('CI node-version values are read from workflow text', () => {
  const yml =
    "steps:\n  - uses: actions/setup-node@v4\n    with:\n      node-version: '>=22.12'\n  - node-version: $" +
    '{{ matrix.node }}\n'
  assert.deepEqual(ciNodeVersions(yml), ['>=22.12'])
})

test('resources: 2 GiB gets one task and ~1.4 GB of heap; plenty gets one task per CPU', () => {
  assert.deepEqual(chooseResources(2048, 2), { jobs: 1, heapMb: 1448, availableMb: 2048 })
  assert.equal(chooseResources(4096, 2).jobs, 2)
  assert.equal(chooseResources(24000, 2).jobs, 2)
  assert.equal(chooseResources(24000, 2).heapMb, 4096)
  assert.equal(chooseResources(24000, 16).jobs, 14)
  assert.equal(chooseResources(700, 8).heapMb, 512)
  assert.deepEqual(chooseResources(2048, 2, { jobs: 2, heapMb: 900 }), {
    jobs: 2,
    heapMb: 900,
    availableMb: 2048,
  })
})

test('the build command drops the docs step unless asked and bounds turbo', () => {
  const scripts = {
    build: 'TURBO_TELEMETRY_DISABLED=1 turbo run build --filter xo-server --filter xo-web && yarn build:doc',
  }
  assert.equal(
    buildCommand(scripts, { docs: false, jobs: 1 }),
    'TURBO_TELEMETRY_DISABLED=1 turbo run build --filter xo-server --filter xo-web --concurrency=1',
  )
  assert.equal(
    buildCommand(scripts, { docs: true, jobs: 3 }),
    'TURBO_TELEMETRY_DISABLED=1 turbo run build --filter xo-server --filter xo-web --concurrency=3 && yarn build:doc',
  )
  assert.equal(
    buildCommand({ build: 'yarn workspaces run build' }, { docs: false, jobs: 2 }),
    'yarn workspaces run build',
  )
  assert.throws(() => buildCommand({}, { docs: false, jobs: 1 }), /no "build" script/)
})

test('the build key changes with every input that changes the output, and only with those', () => {
  const base = { url: 'u', rev: 'a'.repeat(40), lockHash: 'l', node: '22.1.0', yarn: '1.22.22', docs: false }
  const k = buildKey(base)
  assert.equal(buildKey({ ...base }), k)
  for (const change of [
    { url: 'v' },
    { rev: 'b'.repeat(40) },
    { lockHash: 'm' },
    { node: '22.2.0' },
    { yarn: '1.22.21' },
    { docs: true },
    { jobs: 1 },
    { heapMb: 1400 },
  ])
    assert.notEqual(buildKey({ ...base, ...change }), k, JSON.stringify(change))
  const id = releaseId('6.7.1', base.rev, k)
  assert.match(id, RELEASE_ID)
  assert.ok(id.startsWith('6.7.1-aaaaaaaaaa-'))
  assert.equal(releaseId('a/b c', base.rev, k).split('-')[0], 'a_b_c')
})

test('retention keeps current, previous and the N newest others', () => {
  const r = (id: string, current = false, previous = false) => ({ id, current, previous }) as Release
  const list = [r('r6'), r('r5', true), r('r4'), r('r3'), r('r2', false, true), r('r1')]
  assert.deepEqual(
    releasesToPrune(list, 2).map((x) => x.id),
    ['r3', 'r1'],
  )
  assert.deepEqual(releasesToPrune(list, 10), [])
})
