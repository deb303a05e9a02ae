// Invariant 2: a bad spec changes nothing and exits 2 naming the field. Each entry is one distinct way to get
// the spec wrong; each goes through `xoa validate` and `xoa apply --root <fresh dir>`.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { tempDir } from '../helpers.ts'
import { snapshotCli } from './target-root.ts'

/** [field named in the message, TOML text]. The field is matched literally in stderr. */
export const BAD_SPECS: [string, string][] = [
  // types
  ['xo.port', '[xo]\nport = "80"'],
  ['xo.httpsPort', '[xo]\nhttpsPort = 443.5'],
  ['xo.host', '[xo]\nhost = 1234'],
  ['xo.ssl.enable', '[xo.ssl]\nenable = "yes"'],
  ['xo.ssl.generate', '[xo.ssl]\ngenerate = 1'],
  ['xo.extraServerEnv.DEBUG', '[xo.extraServerEnv]\nDEBUG = 1'],
  ['xo.settings', '[xo]\nsettings = "ldap"'],
  ['xo', 'xo = 5'],
  ['build.keep', '[build]\nkeep = "three"'],
  ['build.docs', '[build]\ndocs = "no"'],
  ['admin.enable', '[admin]\nenable = "true"'],
  ['admin.authorizedKeys', '[admin]\nauthorizedKeys = "ssh-ed25519 AAAA"'],
  ['firewall.ports[1]', '[firewall]\nports = [80, "443"]'],
  ['firewall.enable', '[firewall]\nenable = 0'],
  ['redis.maxmemory', '[redis]\nmaxmemory = 512'],
  ['source.rev', '[source]\nrev = 1234567'],
  ['updates.keepBackups', '[updates]\nkeepBackups = true'],
  // ranges and enums
  ['xo.port', '[xo]\nport = 0'],
  ['xo.port', '[xo]\nport = 65536'],
  ['xo.httpsPort', '[xo]\nhttpsPort = -443'],
  ['build.keep', '[build]\nkeep = 0'],
  ['build.keep', '[build]\nkeep = 51'],
  ['build.jobs', '[build]\njobs = 0'],
  ['build.heapMb', '[build]\nheapMb = 128'],
  ['updates.keepBackups', '[updates]\nkeepBackups = 101'],
  ['updates.channel', '[updates]\nchannel = "nightly"'],
  ['mounts.mode', '[mounts]\nmode = "root"'],
  ['firewall.ports[0]', '[firewall]\nports = [0]'],
  // values of the wrong shape
  ['xo.host', '[xo]\nhost = "0.0.0.0; rm -rf /"'],
  ['xo.hostname', '[xo]\nhostname = "xo example"'],
  ['service.user', '[service]\nuser = "Xo User"'],
  ['service.group', '[service]\ngroup = "-xo"'],
  ['admin.user', '[admin]\nuser = "a-very-long-user-name-over-32-chars"'],
  ['admin.authorizedKeys[0]', '[admin]\nauthorizedKeys = ["not a key"]'],
  ['webAdmin.email', '[webAdmin]\nemail = "admin"'],
  ['webAdmin.email', '[webAdmin]\nemail = "admin@admin.net"'],
  ['redis.maxmemory', '[redis]\nmaxmemory = "lots"'],
  ['source.rev', '[source]\nrev = "main"'],
  ['xo.extraServerEnv', '[xo.extraServerEnv]\n"1BAD" = "x"'],
  ['xo.extraServerEnv.X', '[xo.extraServerEnv]\nX = "a\\nb"'],
  ['updates.schedule', '[updates]\nschedule = ""'],
  // relative and unsafe paths
  ['xo.dataDir', '[xo]\ndataDir = "var/lib/xo/data"'],
  ['xo.tempDir', '[xo]\ntempDir = "./tmp"'],
  ['xo.mountsDir', '[xo]\nmountsDir = "/var/lib/xo/../mounts"'],
  ['xo.stateDir', '[xo]\nstateDir = "/var/lib/xo/"'],
  ['xo.ssl.dir', '[xo.ssl]\ndir = "ssl"'],
  ['xo.ssl.key', '[xo.ssl]\nkey = "key.pem"'],
  ['xo.ssl.cert', '[xo.ssl]\ncert = ""'],
  ['redis.socket', '[redis]\nsocket = "redis.sock"'],
  ['redis.dir', '[redis]\ndir = "/var/lib/redis\\nxo"'],
  ['webAdmin.passwordFile', '[webAdmin]\npasswordFile = "admin-password"'],
  ['source.pinFile', '[source]\npinFile = "xo-source.json"'],
  ['mounts.brokerSocket', '[mounts]\nbrokerSocket = "../mountd.sock"'],
  // issue 10 #8: root would create and chown the socket in a directory the service account writes.
  ['mounts.brokerSocket', '[mounts]\nbrokerSocket = "/var/lib/xo/data/mountd.sock"'],
  ['mounts.brokerSocket', '[mounts]\nbrokerSocket = "/var/lib/xo/mounts/run/mountd.sock"'],
  ['mounts.maxImageMounts', '[mounts]\nmaxImageMounts = 0'],
  // clashes and cross-field rules
  ['xo.httpsPort', '[xo]\nport = 443\nhttpsPort = 443'],
  ['firewall.ports[2]', '[firewall]\nports = [80, 443, 80]'],
  ['admin.user', '[service]\nuser = "ops"\n[admin]\nuser = "ops"'],
  ['service.user', '[service]\nuser = "root"'],
  ['admin.user', '[admin]\nuser = "root"'],
  ['xo.tempDir', '[xo]\ntempDir = "/var/lib/xo/data/tmp"'],
  ['xo.mountsDir', '[xo]\nmountsDir = "/var/lib/xo/data"'],
  ['xo.dataDir', '[xo]\ndataDir = "/etc"'],
  ['xo.ssl.cert', '[xo.ssl]\nkey = "/etc/ssl/xo/x.pem"\ncert = "/etc/ssl/xo/x.pem"'],
  ['xo.stateDir', '[xo]\nstateDir = "/"'],
  // directories apply would hand over: system trees, shared dirs, the state dir, privileged groups
  ['xo.dataDir', '[xo]\ndataDir = "/var"'],
  ['xo.ssl.dir', '[xo.ssl]\ndir = "/etc/ssl"'],
  ['redis.dir', '[redis]\ndir = "/var/lib"'],
  ['xo.stateDir', '[xo]\nstateDir = "/usr"'],
  ['xo.dataDir', '[xo]\ndataDir = "/var/lib/xo"'],
  ['xo.mountsDir', '[xo]\nmountsDir = "/var/lib/xo/releases/mnt"'],
  ['xo.tempDir', '[xo]\ntempDir = "/etc/xo-tmp"'],
  ['service.group', '[service]\ngroup = "sudo"'],
  ['admin.user', '[admin]\nuser = "redis-xo"'],
  // unknown keys (with and without a close match)
  ['xo.httpPort', '[xo]\nhttpPort = 8080'],
  ['xo.ssl.certificate', '[xo.ssl]\ncertificate = "/etc/ssl/xo/c.pem"'],
  ['servce', '[servce]\nuser = "xo"'],
  ['redis.password', '[redis]\npassword = "hunter2"'],
  ['admin.keys', '[admin]\nkeys = []'],
  ['mounts.allow', '[mounts]\nallow = ["nfs"]'],
  ['bogus', 'bogus = true'],
  // malformed TOML (no field to name: the message names the line)
  ['line 2', '[xo]\nport = = 80'],
  ['line 1', '[xo'],
  ['line 2', '[xo]\nhost = "unterminated'],
  ['line 3', '[xo]\nport = 80\nport = 81'],
  ['line 2', 'a = 1\n[xo]]'],
]

/** The bundled CLI, asynchronously, so several cases run side by side. */
function xoaAsync(bin: string, args: string[]): Promise<{ status: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { env: { ...process.env, NO_COLOR: '1' } },
      (err, _out, stderr) =>
        resolve({ status: err ? Number((err as { code?: number }).code ?? -1) : 0, stderr }),
    )
  })
}

async function checkCase(
  bin: string,
  dir: string,
  i: number,
  field: string,
  toml: string,
): Promise<string[]> {
  const spec = join(dir, `bad-${i}.toml`)
  writeFileSync(spec, `${toml}\n`)
  const root = join(dir, `root-${i}`)
  // An empty directory: anything in it after the run was written by xoa.
  mkdirSync(root)
  const failures: string[] = []
  const runs = {
    validate: await xoaAsync(bin, ['validate', '--spec', spec]),
    apply: await xoaAsync(bin, ['apply', '--spec', spec, '--root', root, '--yes']),
  }
  for (const [cmd, r] of Object.entries(runs))
    if (r.status !== 2 || !r.stderr.includes(field))
      failures.push(
        `#${i} ${cmd} ${JSON.stringify(toml)}: status ${r.status}, stderr ${JSON.stringify(r.stderr.slice(0, 300))}`,
      )
  const written = readdirSync(root)
  if (written.length !== 0) failures.push(`#${i}: wrote ${written.join(', ')} under --root`)
  return failures
}

test(`at least 50 distinct bad specs: exit 2 naming the field; nothing is written (${BAD_SPECS.length} cases)`, async (t) => {
  assert.ok(BAD_SPECS.length >= 50)
  assert.equal(new Set(BAD_SPECS.map(([, toml]) => toml)).size, BAD_SPECS.length, 'cases must be distinct')
  const dir = tempDir(t)
  const bin = snapshotCli(dir)
  const failures: string[] = []
  const queue = BAD_SPECS.map((c, i) => [i, ...c] as const)
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift())
      failures.push(...(await checkCase(bin, dir, ...next)))
  }
  await Promise.all([worker(), worker(), worker(), worker()])
  assert.deepEqual(failures.sort(), [])
})
