// The container image, for real with podman: build it from the Containerfile (the fixture XO source, or real XO
// with XO_SOURCE_URL), run it with one state volume, wait for its HEALTHCHECK, and check from the outside what
// the issue promises: HTTPS with the certificate it generated, the declared admin signs in, the default admin
// is refused, xo-server and Redis run as the service account with every capability set empty and
// no_new_privs, SIGTERM stops cleanly with Redis saved, and a restart — the same container, or a new one on
// the same volume — serves the same users and remotes without building.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { checkHealth, type Endpoint, get } from '../../src/run/health.ts'
import { miniXoClis } from '../fixtures/mini-xo/bundle.ts'
import { createFixture } from '../fixtures/monorepo.ts'
import {
  baseImage,
  type Podman,
  podman,
  podmanSkipReason,
  processTree,
  RUN_FLAGS,
} from '../harness/podman.ts'
import { freePort, REPO } from '../helpers.ts'

const skip = podmanSkipReason()
const realXo = process.env.XO_SOURCE_URL
const PASSWORD = 'correct-horse-battery-staple'
const EMAIL = 'ops@example.test'
const SOCKET = '/run/redis-xo/redis.sock'
const ZERO = '0000000000000000'

interface Running {
  name: string
  endpoint: Endpoint
  /** Milliseconds from `podman run`/`start` until the HEALTHCHECK passed. */
  healthyAfterMs: number
  /** When it was started (for `podman logs --since`). */
  since: string
}

/** Poll the image's own HEALTHCHECK (`xoa status`): podman runs it on a systemd timer, which is absent here. */
async function waitHealthy(p: Podman, name: string, started: number, timeoutMs: number): Promise<number> {
  let last = ''
  while (Date.now() - started < timeoutMs) {
    const r = await p.run(['healthcheck', 'run', name])
    if (r.status === 0) return Date.now() - started
    last = `${r.stdout}${r.stderr}`
    const state = (await p.run(['inspect', '-f', '{{.State.Status}}', name])).stdout.trim()
    if (state !== 'running') break
    await new Promise((r) => setTimeout(r, 1000))
  }
  const logs = await p.run(['logs', name])
  throw new Error(`${name} did not become healthy:\n${last}\n--- logs ---\n${logs.stdout}${logs.stderr}`)
}

test('the image: built from the Containerfile, healthy, least privilege, and its state survives restarts', {
  skip,
  timeout: 60 * 60_000,
}, async (t) => {
  // Not tempDir(): its cleanup would run before ours and take the containers.conf podman needs to clean up.
  const dir = mkdtempSync(join(tmpdir(), 'xoa-image-'))
  chmodSync(dir, 0o755)
  const p = podman(dir)
  const id = `${process.pid}-${Date.now().toString(36)}`
  const image = `localhost/xoa-test-image:${id}`
  const volume = `xoa-test-state-${id}`
  const names: string[] = []
  t.after(async () => {
    for (const n of names) await p.run(['rm', '-f', '-t', '0', n])
    await p.run(['volume', 'rm', '-f', volume])
    await p.run(['rmi', '-f', image])
    // This build's intermediate layers (the fixture release differs on every run).
    await p.run(['image', 'prune', '-f'])
    rmSync(dir, { recursive: true, force: true })
  })

  // --- build ---
  const base = await baseImage(p, (l) => t.diagnostic(l))
  let source: { url: string; rev?: string; mount?: string }
  if (realXo) {
    const local = realXo.startsWith('/')
    source = {
      url: local ? '/xo-source' : realXo,
      rev: process.env.XO_SOURCE_REV,
      mount: local ? realXo : undefined,
    }
  } else {
    const src = join(dir, 'src')
    source = { url: '/xo-source', rev: createFixture(src, await miniXoClis()), mount: src }
  }
  const npmrc = globalNpmrc()
  const secrets = [
    ...(npmrc ? ['--secret', `id=npmrc,src=${npmrc}`] : []),
    ...(npmCa() ? ['--secret', `id=npm-ca,src=${npmCa()}`] : []),
  ]
  // With default_ulimits = [] buildah's RUN steps get nofile 1024, too few for real XO's build (EMFILE): give
  // them this machine's own limits, which raises nothing.
  const [soft, hard] = spawnSync('sh', ['-c', 'ulimit -Sn; ulimit -Hn'], { encoding: 'utf8' }).stdout.split(
    '\n',
  )
  const buildStarted = Date.now()
  // --network host: apt and npm download during the build; the run below has a network of its own.
  await p.ok(
    [
      'build',
      '--format',
      'docker',
      '--runtime',
      'runc',
      '--network',
      'host',
      '--ulimit',
      `nofile=${soft}:${hard}`,
      '-t',
      image,
      '-f',
      join(REPO, 'Containerfile'),
      '--build-arg',
      `BASE=${base}`,
      '--build-arg',
      `XO_SOURCE_URL=${source.url}`,
      ...(source.rev ? ['--build-arg', `XO_SOURCE_REV=${source.rev}`] : []),
      ...(source.mount ? ['--volume', `${source.mount}:/xo-source:ro`] : []),
      ...secrets,
      REPO,
    ],
    { timeoutMs: 50 * 60_000 },
  )
  const size = Number((await p.ok(['image', 'inspect', '-f', '{{.Size}}', image])).trim())
  t.diagnostic(
    `built in ${((Date.now() - buildStarted) / 1000).toFixed(0)} s; image ${(size / 1e6).toFixed(0)} MB`,
  )

  // No toolchain, no package manager, no yarn cache, no build mirror in the final image; and no secret.
  const inImage = await p.ok([
    'run',
    '--rm',
    ...RUN_FLAGS,
    '--network',
    'none',
    '--entrypoint',
    'sh',
    image,
    '-c',
    'for c in yarn npm gcc cc make g++ git; do command -v $c; done; ' +
      'ls -d /opt/xoa/store/cache /opt/xoa/store/runtimes/yarn-* /root/.npm /root/.cache /etc/npmrc /run/secrets/* 2>/dev/null; ' +
      'ls /opt/xoa/store/releases',
  ])
  const releases = inImage.trim().split('\n')
  assert.equal(releases.length, 1, `only the one release is in the image, nothing else listed:\n${inImage}`)
  const release = releases[0]!

  // --- run: the spec file at the default path (hostname, loopback) and XOA_* variables (the admin) ---
  const specFile = join(dir, 'xoa.toml')
  writeFileSync(specFile, '[xo]\nhostname = "xo.test"\n')
  const pwFile = join(dir, 'admin-password')
  writeFileSync(pwFile, `${PASSWORD}\n`, { mode: 0o600 })
  const ports = { https: await freePort(), http: await freePort() }
  const runArgs = (name: string) => [
    'run',
    '-d',
    '--name',
    name,
    ...RUN_FLAGS,
    '-v',
    `${volume}:/var/lib/xo`,
    '-v',
    `${specFile}:/etc/xoa/xoa.toml:ro`,
    '-v',
    `${pwFile}:/run/secrets/xo-admin:ro`,
    '-e',
    `XOA_ADMIN_EMAIL=${EMAIL}`,
    '-e',
    'XOA_ADMIN_PASSWORD_FILE=/run/secrets/xo-admin',
    // Published on the host's loopback only; inside, xo-server listens on the unprivileged 8080/8443.
    '-p',
    `127.0.0.1:${ports.https}:8443`,
    '-p',
    `127.0.0.1:${ports.http}:8080`,
    image,
  ]
  const healthTimeout = realXo ? 10 * 60_000 : 4 * 60_000
  const start = async (name: string, fresh: boolean): Promise<Running> => {
    const started = Date.now()
    const since = new Date(started - 1000).toISOString()
    if (fresh) {
      names.push(name)
      await p.ok(runArgs(name))
    } else await p.ok(['start', name])
    const healthyAfterMs = await waitHealthy(p, name, started, healthTimeout)
    const mountpoint = (await p.ok(['volume', 'inspect', '-f', '{{.Mountpoint}}', volume])).trim()
    const pinnedCert = readFileSync(join(mountpoint, 'ssl', 'certificate.pem'), 'utf8')
    return { name, endpoint: { url: `https://127.0.0.1:${ports.https}`, pinnedCert }, healthyAfterMs, since }
  }

  const first = await start(`xoa-test-${id}-a`, true)
  t.diagnostic(`podman run → healthy: ${(first.healthyAfterMs / 1000).toFixed(1)} s`)
  const admin = { email: EMAIL, password: PASSWORD }
  assert.deepEqual(await checkHealth(first.endpoint, admin), { healthy: true, ping: true, signIn: true })
  const asDefault = await get(first.endpoint, '/rest/v0/users', {
    email: 'admin@admin.net',
    password: 'admin',
  })
  assert.equal(asDefault.status, 401, 'the default admin is refused')
  const cert = first.endpoint.pinnedCert!
  const mountpoint = (await p.ok(['volume', 'inspect', '-f', '{{.Mountpoint}}', volume])).trim()
  // The state is in the volume; the release is not (a newer image is never shadowed by this volume).
  for (const kept of ['redis', 'ssl/certificate.pem', 'home/.config/xo-server/config.toml', 'data'])
    assert.ok(existsSync(join(mountpoint, kept)), `${kept} is in the volume`)
  for (const image of ['releases', 'current', 'runtimes'])
    assert.ok(!existsSync(join(mountpoint, image)), `${image} is not in the volume`)

  // --- least privilege, as the kernel sees it ---
  const init = Number((await p.ok(['inspect', '-f', '{{.State.Pid}}', first.name])).trim())
  const tree = processTree(init)
  assert.match(tree[0]!.cmdline, /^\/usr\/bin\/tini /, 'PID 1 is tini (reaps orphans, forwards signals)')
  const find = (re: RegExp, what: string) => {
    const hit = tree.find((x) => re.test(x.cmdline))
    assert.ok(hit, `${what} runs: ${tree.map((x) => x.cmdline).join('\n')}`)
    return hit
  }
  for (const proc of [find(/xo-server\/dist\/cli\.mjs/, 'xo-server'), find(/(^|\/)redis-server /, 'Redis')]) {
    const [ruid, euid, suid, fsuid] = proc.status.Uid!.split(/\s+/).map(Number)
    assert.ok(
      [ruid, euid, suid, fsuid].every((u) => u !== 0),
      `${proc.cmdline}: Uid ${proc.status.Uid}`,
    )
    for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapAmb', 'CapBnd'])
      assert.equal(proc.status[set], ZERO, `${proc.cmdline}: ${set}`)
    assert.equal(proc.status.NoNewPrivs, '1', `${proc.cmdline}: NoNewPrivs`)
  }
  // Only the mount broker keeps privileges (root, whatever the runtime's bounding set grants).
  const broker = find(/ broker serve /, 'the mount broker')
  assert.equal(broker.status.Uid!.split(/\s+/)[0], '0')

  // A remote as XO keeps it (xo:remote:<id> + xo:remote_ids), and the users as they are.
  const redis = (args: string[]) => p.ok(['exec', first.name, 'redis-cli', '-s', SOCKET, ...args])
  const remote = JSON.stringify({ id: 'r1', name: 'nfs-r1', url: 'nfs://192.0.2.1:/export', enabled: false })
  await redis(['SET', 'xo:remote:r1', remote])
  await redis(['SADD', 'xo:remote_ids', 'r1'])
  const users = (await get(first.endpoint, '/rest/v0/users', admin)).body

  // --- SIGTERM: a clean stop, Redis saved ---
  await p.ok(['stop', '-t', '60', first.name])
  assert.equal((await p.ok(['inspect', '-f', '{{.State.ExitCode}}', first.name])).trim(), '0')
  const stopLogs = await p.ok(['logs', first.name])
  assert.match(stopLogs, /DB saved on disk/, 'Redis saved on the way down')

  // --- the same container again, then a new container on the same volume: same state, no build ---
  const check = async (r: Running) => {
    assert.equal(r.endpoint.pinnedCert, cert, 'the certificate is the one in the volume')
    assert.equal((await checkHealth(r.endpoint, admin)).healthy, true)
    assert.equal((await get(r.endpoint, '/rest/v0/users', admin)).body, users, 'the same users')
    // Kept, as XO reads it: real xo-server rewrites its records on start (the id moves out of the JSON).
    const kept = await p.ok(['exec', r.name, 'redis-cli', '-s', SOCKET, 'GET', 'xo:remote:r1'])
    const { id: _id, ...fields } = JSON.parse(remote) as Record<string, unknown>
    assert.deepEqual({ ...(JSON.parse(kept) as object), id: undefined }, { ...fields, id: undefined }, kept)
    const ids = await p.ok(['exec', r.name, 'redis-cli', '-s', SOCKET, 'SMEMBERS', 'xo:remote_ids'])
    assert.match(ids, /^r1$/m, 'the remote is kept')
    const status = JSON.parse(await p.ok(['exec', r.name, 'xoa', 'status', '--json'])) as {
      release: { current?: { id: string } }
    }
    assert.equal(status.release.current?.id, release, "the image's release serves")
    const logs = await p.ok(['logs', '--since', r.since, r.name])
    assert.doesNotMatch(logs, /created the web admin|build done|yarn/, 'nothing created or built again')
  }
  const again = await start(first.name, false)
  await check(again)
  await p.ok(['stop', '-t', '60', again.name])
  const fresh = await start(`xoa-test-${id}-b`, true)
  await check(fresh)
  t.diagnostic(
    `restart → healthy: ${(again.healthyAfterMs / 1000).toFixed(1)} s; new container on the volume: ${(fresh.healthyAfterMs / 1000).toFixed(1)} s`,
  )
  await p.ok(['stop', '-t', '60', fresh.name])
})

/** The npm global config this machine's npm reads (its registry, proxy, cafile lines). */
function globalNpmrc(): string | undefined {
  const r = spawnNpm(['config', 'get', 'globalconfig'])
  return r && existsSync(r) ? r : undefined
}

/** The CA bundle npm trusts here (a re-signing proxy's CA is in it on this machine). */
function npmCa(): string | undefined {
  const r = spawnNpm(['config', 'get', 'cafile'])
  return r && r !== 'null' && r !== 'undefined' && existsSync(r) ? r : undefined
}

function spawnNpm(args: string[]): string | undefined {
  const r = spawnSync('npm', args, { encoding: 'utf8' })
  return r.status === 0 ? r.stdout.trim() : undefined
}
