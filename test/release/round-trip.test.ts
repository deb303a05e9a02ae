// Build once, run elsewhere: a release built from the fixture source on "host A" is exported, imported into
// another state dir ("host B", which has no source and no runtime cache of its own), listed there, and served
// by `xoa up --no-build`; the index is the same whichever host exports it.
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, closeSync, lstatSync, openSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { checkHealth } from '../../src/run/health.ts'
import { runtimeEnv } from '../build/helpers.ts'
import { miniXoClis } from '../fixtures/mini-xo/bundle.ts'
import { createFixture } from '../fixtures/monorepo.ts'
import { freePort, tempDir, XOA_BIN, xoa } from '../helpers.ts'
import { startUp, stopUp, upSpec } from '../run/xoa-up.ts'

test('export on one host, import on another: listed, sealed, same digest, and xoa up serves it', async (t) => {
  const root = tempDir(t, 'xoa-release-rt-')
  chmodSync(root, 0o755) // the service account (nobody) reaches both releases through here
  const src = join(root, 'src')
  const rev = createFixture(src, await miniXoClis())
  const hosts = ['a', 'b'].map((h) => join(root, h))
  const ports = { http: await freePort(), https: await freePort() }
  const specs = hosts.map((h, i) => {
    const file = join(root, `${i ? 'b' : 'a'}.json`)
    execFileSync('mkdir', ['-m', '755', h])
    // Host B has no source: it only ever imports.
    writeFileSync(file, JSON.stringify(upSpec(h, { ports, ...(i ? {} : { source: { url: src, rev } }) })))
    return file
  }) as [string, string]
  const built = xoa(['build', '--spec', specs[0]], { env: runtimeEnv })
  assert.equal(built.status, 0, built.stderr + built.stdout)
  const id = readlinkSync(join(hosts[0] as string, 'state', 'current')).replace(/^releases\//, '')

  const file = join(root, 'release.tar.gz')
  const ex = xoa(['releases', 'export', 'current', '--spec', specs[0], '-o', file, '--json'])
  assert.equal(ex.status, 0, ex.stderr)
  const exported = JSON.parse(ex.stdout)
  assert.equal(exported.id, id)
  const again = xoa(['releases', 'export', id, '--spec', specs[0], '-o', file])
  assert.notEqual(again.status, 0, 'export never replaces a file')
  assert.match(again.stderr, /exists; export never replaces a file/)

  // No runtime cache for B: the release must carry its own Node.
  const im = xoa(
    ['release', 'import', file, '--spec', specs[1], '--digest', exported.digest, '--switch', '--json'],
    {
      env: { XOA_RUNTIME_CACHE: join(root, 'no-runtimes') },
    },
  )
  assert.equal(im.status, 0, im.stderr)
  assert.deepEqual(JSON.parse(im.stdout), {
    id,
    status: 'imported',
    digest: exported.digest,
    entries: exported.entries,
    bytes: exported.bytes,
    switched: true,
  })
  const listed = JSON.parse(xoa(['releases', '--spec', specs[1], '--json']).stdout)
  assert.deepEqual(
    listed.map((r: { id: string; current: boolean }) => [r.id, r.current]),
    [[id, true]],
  )

  // What B has: the same content (its own export has the same digest), Node as a real dir, yarn's workspace
  // links still relative, everything root's, nothing setuid/setgid, nothing group/other-writable.
  const rel = join(hosts[1] as string, 'state', 'releases', id)
  // To stdout (the report goes to stderr), as `… | ssh HOST xoa releases import -` uses it.
  const out = openSync(join(root, 'back.tar.gz'), 'wx')
  const back = spawnSync(
    process.execPath,
    [XOA_BIN, 'releases', 'export', id, '--spec', specs[1], '-o', '-', '--json'],
    {
      stdio: ['ignore', out, 'pipe'],
      encoding: 'utf8',
    },
  )
  closeSync(out)
  assert.equal(back.status, 0, back.stderr)
  assert.equal(JSON.parse(back.stderr).digest, exported.digest)
  const reimport = xoa(['releases', 'import', join(root, 'back.tar.gz'), '--spec', specs[0], '--json'])
  assert.equal(JSON.parse(reimport.stdout).status, 'present', reimport.stderr)
  assert.ok(lstatSync(join(rel, 'node')).isDirectory())
  const links = execFileSync('find', [rel, '-type', 'l', '-printf', '%P -> %l\n'], { encoding: 'utf8' })
  assert.match(links, /^xo\/node_modules\/\S+ -> \.\.\//m, `workspace links: ${links}`)
  assert.doesNotMatch(links, / -> \//, 'no absolute symlink')
  const loose = ['-perm', '/6022', '-o', '!', '-user', 'root', '-o', '!', '-group', 'root']
  assert.equal(execFileSync('find', [rel, '!', '-type', 'l', '(', ...loose, ')'], { encoding: 'utf8' }), '')

  // B serves it without building.
  const up = startUp(specs[1], ['--no-build'], { XOA_RUNTIME_CACHE: join(root, 'no-runtimes') })
  t.after(() => up.kill())
  await up.ready
  const health = await checkHealth(
    {
      url: `https://127.0.0.1:${ports.https}`,
      pinnedCert: readFileSync(join(hosts[1] as string, 'ssl', 'cert.pem'), 'utf8'),
    },
    {
      email: 'ops@example.test',
      password: readFileSync(join(hosts[1] as string, 'state', 'secrets', 'admin-password'), 'utf8').trim(),
    },
  )
  assert.equal(health.healthy, true, up.output())
  assert.match(up.output(), new RegExp(`release ${id}`))
  assert.equal(await stopUp(up), 0, up.output())
})
