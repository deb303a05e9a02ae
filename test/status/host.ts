// A healthy xoa host built in a temp dir, as `xoa apply` would leave it: accounts, a release with the minimal
// on-disk shape (manifest, xo-server's cli.mjs, node), the rendered config, private secrets, a real Redis on
// its socket with the declared admin, a certificate xoa generated, the broker's socket. Tests break one thing
// and run the real `xoa doctor --root` against it.
import { execFileSync, spawnSync } from 'node:child_process'
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { createServer, type Server } from 'node:net'
import { dirname, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { createClient } from 'redis'
import { renderRedisConfig } from '../../src/render/redis.ts'
import { renderSshdDropIn } from '../../src/render/sshd.ts'
import { renderXoServerConfig, renderXoServerSecrets } from '../../src/render/xo-server-config.ts'
import { validateSpec } from '../../src/spec/load.ts'
import type { Spec } from '../../src/spec/schema.ts'
import { generateSelfSigned } from '../../src/tls/generate.ts'
import { ledgerPath } from '../../src/tls/ledger.ts'
import { stopRedisServer } from '../backup/redis-server.ts'
import { freePort, type Run, tempDir, xoa } from '../helpers.ts'
import { addXoUser } from './xo-redis.ts'

export const SERVICE_ID = 65534 // "xo" in the temp host's /etc/passwd: nobody's uid, so chown works for real

export interface TestHost {
  root: string
  spec: Spec
  specFile: string
  /** A target path under the root. */
  at(p: string): string
  redis(fn: (c: ReturnType<typeof createClient>) => Promise<unknown>): Promise<unknown>
  stopRedis(): Promise<void>
  writeCert(opts: { now?: Date; validDays?: number }): Promise<void>
  doctor(): Run & { report: DoctorJson }
}

export interface DoctorJson {
  ok: boolean
  findings: { check: string; level: string; finding: string; fix?: string }[]
}

function write(path: string, text: string, mode = 0o644, owner?: number): void {
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, text, { mode })
  chmodSync(path, mode)
  if (owner !== undefined) chownSync(path, owner, owner)
}

export async function healthyHost(t: { after(fn: () => unknown): void }): Promise<TestHost> {
  const root = tempDir(t, 'xoa-doctor-')
  chmodSync(root, 0o755)
  const at = (p: string) => join(root, p)
  const specFile = join(root, 'xoa.json')
  const doc = {
    xo: { host: '127.0.0.1', hostname: 'xo.test', port: await freePort(), httpsPort: await freePort() },
    webAdmin: { email: 'ops@example.test' },
    admin: { authorizedKeys: [] },
  }
  writeFileSync(specFile, JSON.stringify(doc))
  const spec = validateSpec(doc)

  write(
    at('/etc/passwd'),
    'root:x:0:0:root:/root:/bin/sh\nxo:x:65534:65534::/nonexistent:/usr/sbin/nologin\n',
  )
  write(at('/etc/group'), 'root:x:0:\nxo:x:65534:\n')
  write(at('/etc/systemd/system/xo-server.service'), '[Service]\nExecStart=/bin/true\n')
  for (const tool of ['/usr/sbin/sshd', '/usr/bin/vhdimount', '/usr/bin/vhdiinfo'])
    write(at(tool), '#!/bin/sh\n', 0o755)
  mkdirSync(at('/dev'))
  execFileSync('mknod', [at('/dev/fuse'), 'c', '10', '229'])

  // A release in the shape the builder leaves: complete once manifest.json is there.
  const id = '6.7.1-40dede9e11-testkey'
  const rel = at(`/var/lib/xo/releases/${id}`)
  write(join(rel, 'xo/packages/xo-server/dist/cli.mjs'), '// fixture\n')
  write(join(rel, 'node/bin/node'), '#!/bin/sh\n', 0o755)
  const manifest = {
    id,
    version: '6.7.1',
    rev: '40dede9e11c90562df5cb46c6a83a9d91efedae1',
    node: '22.23.3',
    endedAt: '2026-08-21T10:00:00.000Z',
  }
  write(join(rel, 'manifest.json'), JSON.stringify(manifest))
  symlinkSync(join('releases', id), at('/var/lib/xo/current'))

  write(at('/etc/xo-server/config.toml'), renderXoServerConfig(spec).content, 0o640)
  write(
    at('/etc/xo-server/config.z-secrets.toml'),
    renderXoServerSecrets('s'.repeat(32), spec).content,
    0o640,
  )
  write(at('/etc/ssh/sshd_config.d/xoa.conf'), renderSshdDropIn(spec)[0]!.content)
  write(at('/etc/ssh/sshd_config'), 'Include /etc/ssh/sshd_config.d/*.conf\n')
  for (const d of [spec.xo.dataDir, spec.xo.tempDir]) {
    mkdirSync(at(d), { recursive: true, mode: 0o750 })
    chownSync(at(d), SERVICE_ID, SERVICE_ID)
  }
  mkdirSync(at(spec.xo.mountsDir), { recursive: true })
  chownSync(at(spec.xo.mountsDir), 0, SERVICE_ID)
  chmodSync(at(spec.xo.mountsDir), 0o1770)
  mkdirSync(at('/var/lib/xo/secrets'), { mode: 0o700 })
  write(at('/var/lib/xo/secrets/admin-password'), 'correct-horse-battery', 0o600)
  // What xoa bootstrap leaves besides (src/host/secrets.ts): the session secret, the secret environment.
  write(at('/var/lib/xo/secrets/session-secret'), 's'.repeat(32), 0o600)
  write(at('/var/lib/xo/secrets/xo-server.env'), '# Managed by xoa (xo-bootstrap)\n', 0o600)

  // The real Redis, configured from xoa's own rendered redis-xo.conf (minus systemd supervision).
  const socket = at(spec.redis.socket)
  mkdirSync(dirname(socket), { recursive: true })
  mkdirSync(at(spec.redis.dir), { recursive: true })
  const conf = renderRedisConfig(spec)
    .content.replace(/^unixsocket .*$/m, `unixsocket ${socket}`)
    .replace(/^dir .*$/m, `dir ${at(spec.redis.dir)}`)
    .replace('supervised systemd', 'supervised no')
    .replace('daemonize no', `daemonize yes\npidfile ${at('/run/redis-xo/redis.pid')}`)
  write(at('/etc/xoa/redis-xo.conf'), conf)
  const r = spawnSync('redis-server', [at('/etc/xoa/redis-xo.conf')], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`redis-server: ${r.stderr}${r.stdout}`)
  const pidfile = at('/run/redis-xo/redis.pid')
  // The pid file can exist before redis-server wrote the pid into it (seen under load): read until it has one,
  // or the server could never be stopped (pid 0) and would outlive the test.
  const readPid = () => (existsSync(pidfile) ? Number(readFileSync(pidfile, 'utf8').trim()) : 0)
  for (let i = 0; i < 400 && !(existsSync(socket) && readPid() > 0); i++) await sleep(25)
  const pid = readPid()
  if (!(pid > 0)) throw new Error(`redis-server wrote no pid to ${pidfile}`)
  // Registered after the temp dir's cleanup, so it may run once the socket is gone: stop by pid then.
  const stopRedis = () => stopRedisServer(pid, socket)
  t.after(stopRedis)
  const redis = async (fn: (c: ReturnType<typeof createClient>) => Promise<unknown>) => {
    const c = createClient({ socket: { path: socket, reconnectStrategy: false } })
    await c.connect()
    try {
      return await fn(c)
    } finally {
      await c.quit()
    }
  }
  // The declared admin as upstream stores it: a JSON string (see xo-redis.ts).
  await redis((c) => addXoUser(c, 'u1', 'ops@example.test'))

  const writeCert = async (opts: { now?: Date; validDays?: number }) => {
    const made = await generateSelfSigned({
      names: { commonName: 'xo.test', dns: ['xo.test'], ips: [] },
      ...opts,
    })
    write(at(spec.xo.ssl.key), made.keyPem, 0o600, SERVICE_ID)
    write(at(spec.xo.ssl.cert), made.certPem, 0o644)
    const entry = {
      fingerprint: made.fingerprint,
      cert: spec.xo.ssl.cert,
      commonName: 'xo.test',
      notAfter: made.notAfter.toISOString(),
      generatedAt: new Date().toISOString(),
    }
    write(at(ledgerPath(spec)), JSON.stringify({ version: 1, generated: [entry] }))
  }
  await writeCert({})

  // The broker's socket as systemd's xoa-mountd.socket makes it: root:<service group> 0660.
  const brokerSocket = at(spec.mounts.brokerSocket)
  mkdirSync(dirname(brokerSocket), { recursive: true })
  const broker: Server = createServer()
  await new Promise<void>((res) => broker.listen(brokerSocket, res))
  chmodSync(brokerSocket, 0o660)
  chownSync(brokerSocket, 0, SERVICE_ID)
  t.after(() => broker.close())

  const doctor = () => {
    const run = xoa(['doctor', '--json', '--root', root, '--spec', specFile])
    let report: DoctorJson
    try {
      report = JSON.parse(run.stdout) as DoctorJson
    } catch {
      throw new Error(`doctor printed no JSON (exit ${run.status}):\n${run.stdout}\n${run.stderr}`)
    }
    return { ...run, report }
  }
  return { root, spec, specFile, at, redis, stopRedis, writeCert, doctor }
}

export function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8'))
}

export { freePort }
