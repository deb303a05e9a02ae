// Issue 13, "a platform, not hard-coded paths": in the fresh minbase Debian 12, once apply has installed the
// packages, the tools xoa alone runs (setpriv, script, vhdimount, vhdiinfo, redis-server) are MOVED into a
// store-like directory, leaving nothing at their Debian paths. With XOA_PLATFORM naming them, apply builds and
// starts XO, the bootstrap creates the declared admin (through setpriv and script) and the broker mounts a VHD
// (through vhdimount); with the Debian platform the same runs fail, naming the missing tool.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { DEBIAN } from '../../src/platform/debian.ts'
import type { ToolName } from '../../src/platform/platform.ts'
import { bootContainer, CONTAINER_XOA, type Container, nspawnSkipReason } from '../harness/nspawn.ts'
import { freePort } from '../helpers.ts'
import { httpsGet } from './probes.ts'
import { systemTestSource } from './source.ts'

const source = await systemTestSource()
const HOSTNAME = 'xoa-platform.lan'
const ADMIN_EMAIL = 'admin@xoa-platform.lan'
const STATE = '/var/lib/xo'
const CERT = '/etc/ssl/xo/certificate.pem'
const SPEC = '/etc/xoa/xoa.toml'
const PLATFORM_FILE = '/etc/xoa/platform.json'
const XOA = ['node', CONTAINER_XOA]
const STORE = '/opt/xoa-store'
/** What moves, and the store-like package dir it moves to. */
const MOVED: Record<string, ToolName[]> = {
  '0v1k4c9ffq3a9dm7bsq0n7ylx1ws2mcd-util-linux-2.38.1': ['setpriv', 'script'],
  'j4h2b3xqq6pbl2sg4r9wq6mzw0rrvl7h-libvhdi-20210425': ['vhdimount', 'vhdiinfo'],
  'k2cxgwcy0w1rq0hqj6g0ybh8nmbnd4pd-redis-7.0.15': ['redis-server'],
}
const moved = Object.entries(MOVED).flatMap(([pkg, tools]) =>
  tools.map((t) => ({ tool: t, from: DEBIAN.tools[t]!, to: `${STORE}/${pkg}/bin/${t}` })),
)
const storePath = (t: ToolName) => moved.find((m) => m.tool === t)!.to

describe('a platform file: the tools xoa alone runs, moved off their Debian paths (nspawn)', {
  skip: nspawnSkipReason() ?? ('skip' in source ? source.skip : undefined),
}, () => {
  let c: Container
  let ports = { http: 80, https: 443 }
  const password = randomBytes(18).toString('base64url')
  const withPlatform = { XOA_PLATFORM: PLATFORM_FILE }
  const apply = (env: Record<string, string> = {}) =>
    c.exec([...XOA, 'apply', '--spec', SPEC, '--yes'], { timeoutMs: 45 * 60_000, env })

  before(async () => {
    if ('skip' in source) return
    ports = { http: await freePort(), https: await freePort() }
    const fuse = existsSync('/dev/fuse') ? [{ host: '/dev/fuse', container: '/dev/fuse' }] : []
    c = await bootContainer({ network: 'host', binds: [...source.binds, ...fuse] })
    await c.waitForSystem()
    mkdirSync(join(c.root, 'etc', 'xoa'), { recursive: true })
    writeFileSync(join(c.root, 'etc', 'xoa', 'admin-password'), `${password}\n`, { mode: 0o600 })
    chmodSync(join(c.root, 'etc', 'xoa', 'admin-password'), 0o600)
    writeFileSync(
      join(c.root, SPEC),
      [
        '[xo]',
        'host = "127.0.0.1"',
        `hostname = "${HOSTNAME}"`,
        `port = ${ports.http}`,
        `httpsPort = ${ports.https}`,
        '[source]',
        `url = "${source.url}"`,
        ...(source.rev ? [`rev = "${source.rev}"`] : []),
        '[admin]',
        'enable = false', // no SSH admin: openssh-server is not what this test is about
        '[webAdmin]',
        `email = "${ADMIN_EMAIL}"`,
        'passwordFile = "/etc/xoa/admin-password"',
        '',
      ].join('\n'),
    )
  })

  after(async () => {
    await c?.destroy()
    if (!('skip' in source)) source.dispose?.()
  })

  test('apply installs the packages (and stops there on a unit that does not verify)', async () => {
    // An admin's leftover drop-in that systemd-analyze rejects: apply installs the packages, then stops.
    const dropIn = join(c.root, 'etc/systemd/system/xo-server.service.d')
    mkdirSync(dropIn, { recursive: true })
    writeFileSync(join(dropIn, 'local.conf'), '[Service]\nExecStartPre=/opt/nowhere/check-something\n')
    const r = await apply()
    assert.equal(r.status, 1, `${r.stdout}\n${r.stderr}`)
    assert.match(r.stderr, /validation failed, the packages .*redis-server.* were installed/)
    rmSync(dropIn, { recursive: true })
    for (const m of moved) assert.ok(existsSync(join(c.root, m.from)), `${m.from} was not installed`)
  })

  test('the tools move to a store-like dir; nothing is left at their Debian paths or on PATH', async () => {
    const script = moved
      .map((m) => `install -D -m 0755 "$(readlink -f ${m.from})" ${m.to} && rm -f ${m.from}`)
      .join(' && ')
    const mv = await c.sh(`set -e; ${script}`)
    assert.equal(mv.status, 0, mv.stderr)
    for (const m of moved) {
      const found = await c.sh(
        `command -v ${m.tool} || ls /usr/bin/${m.tool} /usr/sbin/${m.tool} /bin/${m.tool} /sbin/${m.tool}`,
      )
      assert.notEqual(found.status, 0, `${m.tool} is still found: ${found.stdout}`)
      assert.equal((await c.exec([m.to, '--version'])).status === 127, false, `${m.to} does not run`)
    }
    const tools = { ...DEBIAN.tools, ...Object.fromEntries(moved.map((m) => [m.tool, m.to])) }
    writeFileSync(join(c.root, PLATFORM_FILE), `${JSON.stringify({ name: 'store', tools }, null, 2)}\n`)
    chmodSync(join(c.root, PLATFORM_FILE), 0o644)
  })

  test('with the Debian platform, apply refuses: redis-xo.service names a redis-server that is not there', async () => {
    const r = await apply()
    assert.equal(r.status, 1, `${r.stdout}\n${r.stderr}`)
    assert.match(r.stderr, /redis-xo\.service/)
    assert.match(r.stderr, /\/usr\/bin\/redis-server/)
    assert.ok(!existsSync(join(c.root, 'etc/systemd/system/redis-xo.service')), 'a unit was installed')
  })

  test('with XOA_PLATFORM, apply builds and starts XO; the declared admin signs in', async (t) => {
    const t0 = Date.now()
    const r = await apply(withPlatform)
    t.diagnostic(`apply (build, bootstrap, start) took ${((Date.now() - t0) / 1000).toFixed(0)} s`)
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}\n${await unitStatus(c)}`)
    // The units carry the platform, so what they run uses it too; Redis runs from the store.
    for (const unit of ['xo-bootstrap', 'xo-build', 'xoa-mountd']) {
      const env = await c.exec(['systemctl', 'show', '-p', 'Environment', '--value', unit])
      assert.match(env.stdout, new RegExp(`XOA_PLATFORM=${PLATFORM_FILE}`), unit)
    }
    const redisExe = await c.sh('readlink /proc/$(systemctl show -p MainPID --value redis-xo)/exe')
    assert.equal(redisExe.stdout.trim(), storePath('redis-server'))
    const ok = await until(
      () => restUsers(c, ports.https, ADMIN_EMAIL, password),
      (r) => r.code === 200,
    )
    assert.equal(ok.code, 200, `${ok.body}\n${await unitStatus(c)}`)
    assert.ok(
      (JSON.parse(ok.body) as { email: string }[]).some((u) => u.email === ADMIN_EMAIL),
      ok.body,
    )
    const bad = await restUsers(c, ports.https, 'admin@admin.net', 'admin')
    assert.equal(bad.code, 401, 'the default admin must not sign in')
  })

  test('bootstrap needs setpriv: with the Debian platform it fails naming it; the unit (XOA_PLATFORM) creates the admin', async () => {
    // An empty Redis, xo-server stopped: the bootstrap has an admin to create again.
    assert.equal((await c.exec(['systemctl', 'stop', 'xo-server'])).status, 0)
    const flush = await c.exec(['redis-cli', '-s', '/run/redis-xo/redis.sock', 'FLUSHALL'])
    assert.equal(flush.stdout.trim(), 'OK', flush.stderr)
    const debian = await c.exec([...XOA, 'bootstrap', '--spec', SPEC])
    assert.notEqual(debian.status, 0, debian.stdout)
    assert.match(
      debian.stderr,
      /needs setpriv at \/usr\/bin\/setpriv \(platform debian\), which is not an executable there/,
    )
    assert.match(debian.stderr, /XOA_PLATFORM/)
    const unit = await c.exec(['systemctl', 'restart', 'xo-bootstrap'])
    assert.equal(unit.status, 0, await unitStatus(c))
    assert.equal((await c.exec(['systemctl', 'start', 'xo-server'])).status, 0, await unitStatus(c))
    const ok = await until(
      () => restUsers(c, ports.https, ADMIN_EMAIL, password),
      (r) => r.code === 200,
    )
    assert.equal(ok.code, 200, ok.body)
  })

  test('the broker mounts a VHD with the moved vhdimount; xo-server sees it', {
    skip: existsSync('/dev/fuse') ? undefined : 'no /dev/fuse on this machine',
  }, async () => {
    const image = `${STATE}/data/disk.vhd`
    execFileSync('qemu-img', ['create', '-q', '-f', 'vpc', join(c.root, image), '16M'])
    const target = `${STATE}/mounts/vhd-test`
    const asXo = [storePath('setpriv'), '--reuid=xo', '--regid=xo', '--init-groups']
    assert.equal((await c.exec([...asXo, 'mkdir', target])).status, 0)
    const mount = await c.exec([...asXo, `${STATE}/bin/sudo`, 'vhdimount', image, target])
    assert.equal(mount.status, 0, `${mount.stdout}${mount.stderr}\n${await unitStatus(c)}`)
    // The FUSE server the broker left running is the store's vhdimount.
    const exe = await c.sh(
      `for p in /proc/[0-9]*; do [ "$(cat $p/comm 2>/dev/null)" = vhdimount ] && readlink $p/exe; done`,
    )
    assert.equal(exe.stdout.trim(), storePath('vhdimount'), exe.stderr)
    const pid = (await c.exec(['systemctl', 'show', '-p', 'MainPID', '--value', 'xo-server'])).stdout.trim()
    const inside = await c.exec(['nsenter', '-t', pid, '-m', 'ls', target])
    assert.match(inside.stdout, /vhdi1/, `not visible inside xo-server: ${inside.stderr}`)
    const umount = await c.exec([...asXo, `${STATE}/bin/sudo`, 'umount', target])
    assert.equal(umount.status, 0, umount.stderr)
  })

  test('a second apply with XOA_PLATFORM changes nothing', async () => {
    const r = await apply(withPlatform)
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`)
    assert.deepEqual(
      r.stdout.split('\n').filter((l) => /^[+~-] /.test(l)),
      [],
    )
  })
})

async function until<T>(fn: () => Promise<T>, ok: (r: T) => boolean, ms = 120_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const r = await fn()
    if (ok(r) || Date.now() > deadline) return r
    await new Promise((res) => setTimeout(res, 1000))
  }
}

function restUsers(c: Container, port: number, email: string, pw: string) {
  return httpsGet(c, {
    port,
    hostname: HOSTNAME,
    path: '/rest/v0/users?fields=id,email,permission',
    ca: CERT,
    credentials: `${email}:${pw}`,
  })
}

async function unitStatus(c: Container): Promise<string> {
  const units = ['redis-xo', 'xo-build', 'xo-bootstrap', 'xo-server', 'xoa-mountd.socket']
  const status = await c.exec(['systemctl', 'status', '--no-pager', '--lines=0', ...units])
  const journal = await c.exec(['journalctl', '--no-pager', '-n', '60', ...units.flatMap((u) => ['-u', u])])
  return `${status.stdout}\n${journal.stdout}`
}
