// Opt-in: every operational command on real upstream Xen Orchestra under `xoa up` (issue 12). XOA_REAL_STATE names
// a state dir holding at least one release built from upstream (`xoa build`, see docs/testing.md); with two
// releases, rollback is exercised too. The channels of `xoa update --check` come from the release's own source
// URL (or XO_SOURCE_URL). Runs as root: the mount broker is a root child of `xoa up`.
//
// Each check is its own subtest, so one run reports pass/fail per operation; the state dir's `current` is put
// back as found.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmodSync, chownSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { checkHealth, type Endpoint } from '../../src/run/health.ts'
import { freePort, tempDir, xoa } from '../helpers.ts'
import { execs, pidsWith, sampleArgv, straceAttach, xoApi } from './real-xo.ts'
import { startUp, stopUp, type Up, upSpec } from './xoa-up.ts'

const state = process.env.XOA_REAL_STATE
const skip =
  (!state && 'skipped: XOA_REAL_STATE not set') ||
  (process.getuid?.() !== 0 && 'skipped: needs root (the broker)')

interface ReleaseRow {
  id: string
  url: string
  rev: string
  current: boolean
  previous: boolean
}

const SMB_PASSWORD = 'smb-Pw-5d2f9c71e0'

test('real XO under xoa up: status, doctor, broker mounts, backup/restore, rollback, update --check', {
  skip,
  timeout: 60 * 60_000,
}, async (t) => {
  // After-hooks run in the order they are registered: put `current` back and stop xoa up before the temp dir
  // (which holds the spec) goes.
  let up: Up | undefined
  const found = readlinkSync(join(state!, 'current'))
  t.after(() => {
    up?.kill()
    if (readlinkSync(join(state!, 'current')) !== found)
      xoa(['rollback', '--spec', specFile, found.split('/').pop()!])
  })
  const root = tempDir(t, 'xoa-real-ops-')
  chmodSync(root, 0o755)
  const password = 'real-xo-ops-password'
  writeFileSync(join(root, 'admin-password'), `${password}\n`, { mode: 0o600 })
  const releases = () => JSON.parse(xoa(['releases', '--spec', specFile, '--json']).stdout) as ReleaseRow[]

  const specFile = join(root, 'xoa.json')
  const ports = { http: await freePort(), https: await freePort() }
  const spec = {
    ...upSpec(root, { ports, state, webAdmin: { passwordFile: join(root, 'admin-password') } }),
    // The broker route is what the NFS/SMB check is about (upSpec turns mounts off).
    mounts: { mode: 'broker', brokerSocket: join(root, 'mountd', 'mountd.sock') },
  }
  writeFileSync(specFile, JSON.stringify(spec))
  const current = releases().find((r) => r.current)!
  const sourceUrl = process.env.XO_SOURCE_URL ?? current.url
  writeFileSync(specFile, JSON.stringify({ ...spec, source: { url: sourceUrl } }))

  const admin = { email: 'ops@example.test', password }
  const ep = (): Endpoint => ({
    url: `https://127.0.0.1:${ports.https}`,
    pinnedCert: readFileSync(join(root, 'ssl', 'cert.pem'), 'utf8'),
  })
  const start = async () => {
    const t0 = Date.now()
    up = startUp(specFile, ['--no-build', '--health-timeout', '300'])
    await up.ready
    t.diagnostic(`xoa up → healthy in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
  }
  const stop = async () => {
    if (up) assert.equal(await stopUp(up), 0, up.output().slice(-2000))
    up = undefined
  }
  const api = () => xoApi(ep().url.replace('https:', 'wss:'), ep().pinnedCert!, admin)
  const remoteNames = async () => {
    const xo = await api()
    try {
      return ((await xo.call('remote.getAll')) as { name: string }[]).map((r) => r.name).sort()
    } finally {
      await xo.close()
    }
  }

  await start()

  await t.test('xoa status: exit 0, healthy, XO users counted', () => {
    const r = xoa(['status', '--spec', specFile, '--json'])
    assert.equal(r.status, 0, r.stdout + r.stderr)
    const s = JSON.parse(r.stdout)
    assert.equal(s.ok, true, JSON.stringify(s.problems))
    assert.equal(s.server.running, true)
    assert.deepEqual([s.health.ping, s.health.signIn], [true, true])
  })

  await t.test('xoa doctor: every check ok (or skipped as not applicable)', () => {
    const r = xoa(['doctor', '--spec', specFile, '--json'])
    const d = JSON.parse(r.stdout) as { findings: { check: string; level: string; finding: string }[] }
    const bad = d.findings.filter((f) => f.level !== 'ok' && f.level !== 'skip')
    assert.deepEqual(bad, [])
    assert.equal(r.status, 0, r.stderr)
  })

  await t.test(
    'NFS and SMB remotes over JSON-RPC reach mount(8) through the broker; no argv holds the SMB password',
    async () => {
      const [broker] = pidsWith('broker', 'serve', '--spec', specFile)
      assert.ok(broker, 'no `xoa broker serve` child of xoa up')
      const trace = await straceAttach(broker, join(root, 'broker.strace'))
      const sampler = sampleArgv(SMB_PASSWORD)
      const xo = await api()
      const results: Record<string, unknown> = {}
      try {
        for (const [name, url] of [
          ['nfs-before-backup', 'nfs://127.0.0.1:/export/xo'],
          ['smb-before-backup', `smb://xouser:${SMB_PASSWORD}@WORKGROUP\\\\127.0.0.1\\share\0xo`],
        ] as const) {
          // No nfs/cifs in this kernel: XO reports the failed mount, which is expected; what reached mount(8)
          // is what this checks.
          const outcome = (p: Promise<unknown>) =>
            p.catch((e: Error) => ({ error: e.message.split('\n').pop() }))
          const remote = (await outcome(xo.call('remote.create', { name, url }))) as { id?: string }
          results[name] = remote.id ? await outcome(xo.call('remote.test', { id: remote.id })) : remote
        }
      } finally {
        await xo.close()
      }
      const argv = await sampler.stop()
      const log = await trace.stop()
      t.diagnostic(`remote.test: ${JSON.stringify(results)}`)
      t.diagnostic(
        `argv sampler: ${argv.reads} reads of /proc/*/cmdline, ${argv.commands.size} distinct programs`,
      )

      const mounts = execs(log, 'mount')
      const nfs = mounts.find((l) => l.includes('"nfs"'))
      const cifs = mounts.find((l) => l.includes('"cifs"'))
      assert.ok(nfs, `no mount -t nfs reached mount(8):\n${log}`)
      assert.match(nfs, /"127\.0\.0\.1:\/export\/xo", "\/proc\/self\/fd\/3"/)
      assert.match(nfs, /"-o", "[^"]*nosuid,nodev,noexec"/)
      assert.ok(cifs, `no mount -t cifs reached mount(8):\n${log}`)
      assert.match(cifs, /"\/\/127\.0\.0\.1[\\/]+share\/xo", "\/proc\/self\/fd\/3"/)
      assert.match(cifs, /nosuid,nodev,noexec,uid=65534,gid=65534,forceuid,forcegid"/)
      // mount(8) ran its helpers, which got as far as mount(2) (ENODEV: no nfs/cifs in this kernel).
      assert.ok(execs(log, 'mount.nfs').length > 0, 'mount.nfs was never run')
      assert.ok(execs(log, 'mount.cifs').length > 0, 'mount.cifs was never run')
      const syscalls = log.split('\n').filter((l) => /^\d+ +mount\(/.test(l))
      const nfsCall = syscalls.find((l) => /"nfs4?"/.test(l))
      assert.match(nfsCall ?? log, /MS_NOSUID\|MS_NODEV\|MS_NOEXEC/)
      // The password travels in the environment to mount.cifs, which hands it to the kernel in mount(2)'s data
      // (the only place it must be) — and in no program's argv along the way.
      const cifsCall = syscalls.find((l) => l.includes('"cifs"')) ?? log
      assert.match(cifsCall, /MS_NOSUID\|MS_NODEV\|MS_NOEXEC/)
      assert.ok(cifsCall.includes(`pass=${SMB_PASSWORD}`), `the password never reached mount(2): ${cifsCall}`)
      const argvs = log.split('\n').filter((l) => / execve\(/.test(l))
      assert.deepEqual(
        argvs.filter((l) => l.includes(SMB_PASSWORD)),
        [],
        'the SMB password in a traced argv',
      )
      assert.deepEqual(argv.hits, [], 'the SMB password was seen in /proc/*/cmdline')
      assert.ok(argv.reads > 1000, 'the sampler barely ran')
      assert.doesNotMatch(up!.output(), new RegExp(SMB_PASSWORD), 'the SMB password reached xoa up output')
    },
  )

  let archive = ''
  await t.test('xoa backup while xoa up runs: labelled running, config and session secret included', () => {
    const r = xoa(['backup', '--spec', specFile, '--json'])
    assert.equal(r.status, 0, r.stdout + r.stderr)
    const b = JSON.parse(r.stdout)
    archive = b.archive
    assert.notEqual(b.consistency.files, 'service-not-running', 'xo-server was running')
    const members = spawnSync('tar', ['-tzf', archive], { encoding: 'utf8' })
      .stdout.split('\n')
      .map((m) => m.replace(/^\.\//, ''))
    for (const f of ['files/config/config.toml', 'files/config/config.z-secrets.toml'])
      assert.ok(
        members.includes(f),
        `${f} not in the archive: ${members.filter((m) => m.startsWith('files/config')).join(' ')}`,
      )
  })

  await t.test(
    'a remote created after the backup; xoa restore refuses while xoa up runs and changes nothing',
    async () => {
      assert.ok(archive, 'no backup')
      const dir = join(root, 'remote')
      mkdirSync(dir)
      chownSync(dir, 65534, 65534)
      const xo = await api()
      try {
        await xo.call('remote.create', { name: 'file-after-backup', url: `file://${dir}` })
      } finally {
        await xo.close()
      }
      const r = xoa(['restore', archive, '--spec', specFile, '--yes'])
      assert.notEqual(r.status, 0, `restore ran under a live xoa up:\n${r.stdout}${r.stderr}`)
      assert.match(r.stdout + r.stderr, /xoa up/)
      assert.ok((await remoteNames()).includes('file-after-backup'), 'Redis was replaced anyway')
    },
  )

  await t.test('xoa restore with xoa up stopped: later remotes gone, users kept, healthy again', async () => {
    assert.ok(archive, 'no backup')
    await stop()
    const r = xoa(['restore', archive, '--spec', specFile, '--yes'])
    assert.equal(r.status, 0, r.stdout + r.stderr)
    await start()
    assert.deepEqual(await checkHealth(ep(), admin), { healthy: true, ping: true, signIn: true })
    const names = await remoteNames()
    // The NFS and SMB remotes were created before the backup (the broker subtest), so the restore keeps them.
    assert.ok(!names.includes('file-after-backup'), `kept: ${names.join(' ')}`)
    for (const n of ['nfs-before-backup', 'smb-before-backup'])
      assert.ok(names.includes(n), `${n} lost in the restore: ${names.join(' ')}`)
    const xo = await api()
    try {
      const emails = ((await xo.call('user.getAll')) as { email: string }[]).map((u) => u.email)
      assert.ok(emails.includes(admin.email), emails.join(' '))
      assert.ok(!emails.includes('admin@admin.net'), 'the default admin came back')
    } finally {
      await xo.close()
    }
    assert.equal(xoa(['status', '--spec', specFile]).status, 0, 'status after restore')
  })

  await t.test(
    'xoa rollback with two releases: switches, says what to restart; the other release serves',
    {
      skip: releases().length < 2 && 'one release only in XOA_REAL_STATE: build a second (docs/testing.md)',
    },
    async () => {
      const before = releases().find((r) => r.current)!
      const r = xoa(['rollback', '--spec', specFile])
      assert.equal(r.status, 0, r.stdout + r.stderr)
      const after = releases().find((x) => x.current)!
      assert.notEqual(after.id, before.id)
      assert.match(r.stdout + r.stderr, /restart/i, 'rollback under xoa up must say what to restart')
      await stop()
      await start()
      assert.deepEqual(await checkHealth(ep(), admin), { healthy: true, ping: true, signIn: true })
      const s = JSON.parse(xoa(['status', '--spec', specFile, '--json']).stdout)
      assert.equal(s.release.current.id, after.id)
    },
  )

  await stop()

  const check = (channel: string, rev?: string) => {
    writeFileSync(specFile, JSON.stringify({ ...spec, source: { url: sourceUrl, ...(rev ? { rev } : {}) } }))
    const r = xoa(['update', '--spec', specFile, '--check', '--channel', channel])
    t.diagnostic(
      `update --check --channel ${channel}${rev ? ` (source.rev ${rev.slice(0, 10)})` : ''}: exit ${r.status}: ${r.stdout.split('\n').find((l) => l.trim()) ?? r.stderr.trim()}`,
    )
    return r
  }
  await t.test('xoa update --check per channel: up to date, newer available, behind the pin', () => {
    const pin = JSON.parse(readFileSync(join(import.meta.dirname, '../../xo-source.json'), 'utf8')) as {
      rev: string
    }
    for (const rev of [undefined, pin.rev]) {
      const latest = check('latest', rev)
      assert.equal(latest.status, 0, latest.stdout + latest.stderr)
      const master = check('master', rev)
      assert.equal(master.status, 10, master.stdout + master.stderr)
      const stable = check('stable', rev)
      assert.ok(
        ![0, 2, 10].includes(stable.status),
        `stable is behind the pin, not "${stable.status}":\n${stable.stdout}${stable.stderr}`,
      )
      assert.match(stable.stdout + stable.stderr, /behind/)
    }
  })
})
