// Opt-in (NIXPKGS_LIB): the NixOS module evaluated with nixpkgs' lib. Proves that every spec field has an
// option with the spec's default, that the JSON the module writes is a spec `xoa validate` accepts, and what
// the module declares: units, accounts, Redis, sshd, firewall, sudo (seed mode only), nginx, assertions.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { tempDir, xoa } from '../helpers.ts'
import { evalModule, KEY, skipNoLib } from './eval-module.ts'

type Schema = { type?: string; properties?: Record<string, Schema>; default?: unknown }

function* fields(s: Schema, path: string[] = []): Generator<[string[], Schema]> {
  for (const [k, p] of Object.entries(s.properties ?? {})) {
    if (p.type === 'object' && p.properties) yield* fields(p, [...path, k])
    else yield [[...path, k], p]
  }
}

/** Spec field path → NixOS option path under xoa.xo (spec `xo.*` sits directly under xoa.xo). */
const optionPath = (f: string[]) => (f[0] === 'xo' ? f.slice(1) : f)

/** Where the NixOS module deliberately differs from the spec's default, and why. */
const NIX_DEFAULTS: Record<string, unknown> = {
  // The seed opens its ports on NixOS; on Debian the firewall stays opt-in.
  'firewall.enable': true,
}

function validate(dir: string, specText: string) {
  const file = join(dir, 'spec.json')
  writeFileSync(file, specText)
  return xoa(['validate', '--spec', file, '--json'])
}

/** The [Service] section of a unit file: key → its values split into words (repeated keys concatenated). */
function serviceSection(unit: string): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  const body = unit.split('[Service]')[1]!.split(/^\[/m)[0]!
  for (const line of body.split('\n')) {
    const m = /^(\w+)=(.*)$/.exec(line)
    if (m) out[m[1]!] = [...(out[m[1]!] ?? []), ...words(m[2]!)]
  }
  return out
}

/** The same view of a NixOS serviceConfig (lists become repeated keys; booleans yes/no). */
function nixServiceSection(sc: Record<string, unknown>): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  for (const [k, v] of Object.entries(sc)) {
    const vals = Array.isArray(v) ? v : [v]
    out[k] = vals.flatMap((x) => words(typeof x === 'boolean' ? (x ? 'yes' : 'no') : String(x)))
  }
  return out
}

const words = (s: string) => s.split(/\s+/).filter((w) => w !== '')

describe('NixOS module (lib.evalModules)', { skip: skipNoLib }, () => {
  test('every spec field has an option under xoa.xo with the same default and a description', (t) => {
    const dir = tempDir(t)
    const schema = JSON.parse(xoa(['schema']).stdout) as Schema
    const { options } = evalModule(dir)
    let n = 0
    for (const [field, s] of fields(schema)) {
      const path = optionPath(field)
      const opt = path.reduce<any>((o, k) => o?.[k], options)
      assert.ok(
        opt && 'default' in opt,
        `no option xoa.xo.${path.join('.')} for spec field ${field.join('.')}`,
      )
      const key = field.join('.')
      const want = key in NIX_DEFAULTS ? NIX_DEFAULTS[key] : (s.default ?? null)
      assert.deepEqual(opt.default, want, `default of xoa.xo.${path.join('.')}`)
      assert.ok(opt.description?.length > 0, `xoa.xo.${path.join('.')} has no description`)
      n++
    }
    assert.ok(n >= 40, `only ${n} spec fields walked`)
    for (const seed of [
      'enable',
      'host',
      'port',
      'httpsPort',
      'dataDir',
      'tempDir',
      'mountsDir',
      'extraServerEnv',
    ])
      assert.ok(options[seed], `seed option xoa.xo.${seed} missing`)
    for (const k of ['enable', 'dir', 'key', 'cert']) assert.ok(options.ssl[k], `xoa.xo.ssl.${k} missing`)
    for (const k of ['enable', 'domain', 'acmeEmail']) assert.ok(options.reverseProxy[k])
  })

  test('defaults: the spec JSON is what `xoa validate` fills in, with the NixOS firewall default', (t) => {
    const dir = tempDir(t)
    const e = evalModule(dir)
    assert.deepEqual(e.failedAssertions, [])
    assert.deepEqual(e.warnings, [])
    assert.deepEqual(JSON.parse(e.specText), e.spec)
    const v = validate(dir, e.specText)
    assert.equal(v.status, 0, v.stderr)
    const empty = join(dir, 'empty.json')
    writeFileSync(empty, '{}')
    const defaults = JSON.parse(xoa(['validate', '--spec', empty, '--json']).stdout)
    defaults.firewall.enable = true
    defaults.admin.authorizedKeys = [KEY]
    assert.deepEqual(JSON.parse(v.stdout), defaults)
    assert.equal(e.etc['xoa/xoa.json'], e.services['xo-server'].restartTriggers[1])
    assert.match(e.etc['xo-server/config.toml']!, /-xo-server-config\/etc\/xo-server\/config\.toml$/)
    assert.equal(e.variables.XOA_SPEC, '/etc/xoa/xoa.json')
  })

  test('a non-default spec round-trips through the options and validates', (t) => {
    const dir = tempDir(t)
    const e = evalModule(
      dir,
      `hostname = "xo.example.lan"; port = 8080; httpsPort = 8443; source.rev = "40dede9e11";
       build.jobs = 2; webAdmin.email = "ops@example.lan"; webAdmin.passwordFile = "/run/secrets/xo-admin";
       settings.authentication.defaultTokenValidity = "30 days"; updates.channel = "stable";
       extraServerEnv.NODE_OPTIONS = "--max-old-space-size=4096";`,
    )
    assert.deepEqual(e.failedAssertions, [])
    const v = validate(dir, e.specText)
    assert.equal(v.status, 0, v.stderr)
    const spec = JSON.parse(v.stdout)
    assert.equal(spec.xo.hostname, 'xo.example.lan')
    assert.equal(spec.source.rev, '40dede9e11')
    assert.equal(spec.build.jobs, 2)
    assert.equal(spec.build.heapMb, undefined, 'unset optional fields are left out, not null')
    assert.equal(spec.webAdmin.passwordFile, '/run/secrets/xo-admin')
    assert.deepEqual(spec.xo.settings, { authentication: { defaultTokenValidity: '30 days' } })
    assert.equal(spec.updates.channel, 'stable')
    const env = e.services['xo-server'].environment
    assert.equal(env.NODE_OPTIONS, '--max-old-space-size=4096')
    // Unprivileged ports: xo-server keeps no capability at all.
    const sc = e.services['xo-server'].serviceConfig
    assert.equal(sc.CapabilityBoundingSet, '')
    assert.equal(sc.AmbientCapabilities, '')
    assert.equal(e.services['xo-server'].environment.TMPDIR, '/var/lib/xo/tmp')
  })

  test('a spec the CLI rejects is rejected: the JSON carries the bad value to `xoa validate`', (t) => {
    const dir = tempDir(t)
    const e = evalModule(dir, `dataDir = "relative/dir";`)
    const v = validate(dir, e.specText)
    assert.equal(v.status, 2)
    assert.match(v.stderr, /xo\.dataDir: must be an absolute path/)
  })

  test('units: build, bootstrap, server, broker; server hardened and after Redis and bootstrap', (t) => {
    const e = evalModule(tempDir(t))
    assert.deepEqual(Object.keys(e.services).sort(), ['xo-bootstrap', 'xo-build', 'xo-server', 'xoa-mountd'])
    const srv = e.services['xo-server']
    for (const u of ['redis-xo.service', 'xo-bootstrap.service', 'xo-build.service'])
      assert.ok(srv.after.includes(u))
    assert.deepEqual(srv.requires, ['redis-xo.service', 'xo-bootstrap.service'])
    const sc = srv.serviceConfig
    assert.equal(sc.User, 'xo')
    assert.deepEqual(sc.SupplementaryGroups, ['redis-xo'])
    assert.equal(sc.NoNewPrivileges, true)
    assert.equal(sc.ProtectSystem, 'strict')
    assert.equal(sc.RestrictSUIDSGID, true)
    assert.deepEqual(sc.SystemCallFilter, ['@system-service', '~@privileged @resources'])
    // Ports 80/443: the bind capability and nothing else.
    assert.equal(sc.CapabilityBoundingSet, 'CAP_NET_BIND_SERVICE')
    assert.deepEqual(sc.ReadWritePaths, [
      '/var/lib/xo/data',
      '/var/lib/xo/tmp',
      '/var/lib/xo/mounts',
      '/var/lib/xo/home/.config',
      '/var/lib/xo/logs',
    ])
    assert.equal(
      sc.ExecStart,
      '/var/lib/xo/current/node/bin/node /var/lib/xo/current/xo/packages/xo-server/dist/cli.mjs',
    )
    // The broker's shim dir (<stateDir>/bin) comes first on PATH; no real sudo on it.
    assert.equal(srv.path[0], '/var/lib/xo')
    assert.ok(!srv.path.includes('/run/wrappers'))
    const build = e.services['xo-build'].serviceConfig
    assert.match(build.ExecStart, /-xoa\/bin\/xoa build --spec \/nix\/store\/\S+-xoa-spec\.json$/)
    // Root as on Debian: xoa runs yarn as the service account itself and seals the release root-owned.
    assert.equal(build.User, undefined)
    // npm tarballs of XO chmod 6775 during the install: allowed here only, void (nosuid mount), stripped.
    assert.equal(build.RestrictSUIDSGID, false)
    assert.deepEqual(build.SystemCallFilter, ['@system-service', '@mount'])
    assert.equal(build.NoNewPrivileges, true)
    assert.equal(e.services['xo-build'].environment.XOA_PRIVATE_MOUNTS, '1')
    assert.equal(build.Type, 'oneshot')
    const boot = e.services['xo-bootstrap'].serviceConfig
    // Root as on Debian (it creates the key for the service account); the certificate is part of bootstrap.
    assert.equal(boot.User, undefined)
    assert.match(boot.ExecStart, /xoa bootstrap --spec /)
    assert.equal(boot.NoNewPrivileges, true)
    const sock = e.sockets['xoa-mountd'].socketConfig
    assert.deepEqual(
      [sock.ListenStream, sock.SocketUser, sock.SocketGroup, sock.SocketMode],
      ['/run/xoa-mountd/mountd.sock', 'root', 'xo', '0660'],
    )
    assert.match(e.services['xoa-mountd'].serviceConfig.ExecStart, /xoa broker serve --spec /)
    assert.deepEqual(e.timers, {}, 'no scheduled upgrades unless updates.schedule is set')
  })

  const sandboxCases = [
    ['broker', 'port = 8080; httpsPort = 8443;'],
    ['broker', ''],
    ['sudo', 'port = 8080; httpsPort = 8443;'],
    ['none', ''],
  ] as const
  for (const [mode, ports] of sandboxCases) {
    test(`xo-server's sandbox is the one xoa renders for Debian (mounts.mode = ${mode} ${ports})`, async (t) => {
      const dir = tempDir(t)
      const e = evalModule(dir, `mounts.mode = "${mode}"; ${ports}`)
      const { renderXoServerUnit } = await import('../../src/render/xo-server-unit.ts')
      const { DEFAULT_RENDER_ENV } = await import('../../src/render/types.ts')
      const { validateSpec } = await import('../../src/spec/load.ts')
      const rendered = serviceSection(renderXoServerUnit(validateSpec(e.spec), DEFAULT_RENDER_ENV).content)
      const nix = nixServiceSection(e.services['xo-server'].serviceConfig)
      for (const key of new Set([...Object.keys(rendered), ...Object.keys(nix)])) {
        if (['Environment', 'EnvironmentFile'].includes(key)) continue
        assert.deepEqual(nix[key], rendered[key], `${key} differs from the rendered xo-server.service`)
      }
    })
  }

  test('accounts: xo is a system user without a shell or privileges; xoa is key-only with sudo', (t) => {
    const e = evalModule(tempDir(t))
    const xo = e.users.xo
    assert.equal(xo.isSystemUser, true)
    assert.match(xo.shell, /\/bin\/nologin$/)
    assert.deepEqual(xo.extraGroups, ['redis-xo'])
    assert.ok(!xo.extraGroups.includes('wheel'))
    assert.deepEqual(e.groups, ['xo'])
    const admin = e.users.xoa
    assert.equal(admin.isNormalUser, true)
    assert.deepEqual(admin.extraGroups, ['wheel', 'systemd-journal'])
    assert.deepEqual(admin.openssh.authorizedKeys.keys, [KEY])
    assert.equal(admin.hashedPassword, '!', 'no password login')
    // Broker mode: the only sudo rule is the admin's; the service account gets none.
    assert.deepEqual(
      e.sudo.extraRules.map((r) => r.users),
      [['xoa']],
    )
    assert.doesNotMatch(e.sudo.extraConfig, /xo/)
  })

  test('Redis on its socket only, AOF, never evicting; sshd hardened; seed firewall ports', (t) => {
    const e = evalModule(tempDir(t))
    const r = e.redis.xo
    assert.equal(r.enable, true)
    assert.equal(r.port, 0)
    assert.equal(r.unixSocket, '/run/redis-xo/redis.sock')
    assert.equal(r.unixSocketPerm, 660)
    assert.equal(r.appendOnly, true)
    assert.equal(r.settings['maxmemory-policy'], 'noeviction')
    assert.deepEqual(e.openssh.settings, {
      AllowUsers: ['xoa'],
      KbdInteractiveAuthentication: false,
      PasswordAuthentication: false,
      PermitRootLogin: 'no',
      X11Forwarding: false,
    })
    assert.deepEqual(e.firewallPorts, [80, 443, 3389, 5900, 8012])
    assert.deepEqual(e.systemPackages, ['xoa', 'libvhdi'])
  })

  test('firewall switchable: off, or other ports', (t) => {
    const dir = tempDir(t)
    assert.deepEqual(evalModule(dir, 'firewall.enable = false;', 'a').firewallPorts, [])
    assert.deepEqual(evalModule(dir, 'firewall.ports = [ 443 ];', 'b').firewallPorts, [443])
  })

  test('sudo mode: exact store paths with NOPASSWD, no globs, SMB env kept, visudo accepts it', (t) => {
    const dir = tempDir(t)
    const e = evalModule(dir, 'mounts.mode = "sudo";')
    assert.deepEqual(e.failedAssertions, [])
    assert.equal(e.services['xoa-mountd'], undefined)
    assert.equal(e.sockets['xoa-mountd'], undefined)
    const rule = e.sudo.extraRules.find((r) => r.users.includes('xo'))
    assert.ok(rule, 'no sudo rule for xo')
    const cmds = rule.commands.map((c: { command: string }) => c.command) as string[]
    for (const c of cmds) {
      assert.match(
        c,
        /^\/nix\/store\/[0-9a-z]{32}-[^/*?[\]\s]+\/bin\/[a-z.0-9]+$/,
        `not an exact store path: ${c}`,
      )
    }
    for (const c of rule.commands) assert.deepEqual(c.options, ['NOPASSWD'])
    assert.deepEqual(cmds.map((c) => c.split('/').pop()).sort(), [
      'findmnt',
      'mount',
      'mount.cifs',
      'mount.nfs',
      'mount.nfs4',
      'umount',
      'vhdiinfo',
      'vhdimount',
    ])
    assert.match(e.sudo.extraConfig, /^Defaults:xo env_keep \+= "USER PASSWD"$/m)
    // The lines NixOS writes for these rules, checked by the real sudoers parser.
    const sudoers = join(dir, 'sudoers')
    writeFileSync(
      sudoers,
      `${e.sudo.extraConfig}\n${e.sudo.extraRules
        .flatMap((r) =>
          r.users.flatMap((u: string) =>
            r.commands.map(
              (c: { command: string; options: string[] }) =>
                `${u} ALL=(ALL:ALL) ${c.options.join(', ')}: ${c.command}`,
            ),
          ),
        )
        .join('\n')}\n`,
      { mode: 0o440 },
    )
    const v = spawnSync('visudo', ['-cf', sudoers], { encoding: 'utf8' })
    assert.equal(v.status, 0, v.stdout + v.stderr)
    const srv = e.services['xo-server']
    assert.ok(srv.path.includes('/run/wrappers'), 'real sudo on PATH in sudo mode')
    assert.equal(srv.serviceConfig.NoNewPrivileges, false)
    assert.equal(srv.serviceConfig.CapabilityBoundingSet, undefined)
    assert.equal(srv.serviceConfig.DeviceAllow, '/dev/fuse rw')
  })

  test('mounts.mode = "none": neither broker nor sudo rules', (t) => {
    const e = evalModule(tempDir(t), 'mounts.mode = "none";')
    assert.equal(e.services['xoa-mountd'], undefined)
    assert.deepEqual(
      e.sudo.extraRules.map((r) => r.users),
      [['xoa']],
    )
    assert.equal(e.services['xo-server'].serviceConfig.NoNewPrivileges, true)
  })

  test('admin.enable = false: no admin account, no sudo rule, no sshd changes', (t) => {
    const e = evalModule(tempDir(t), 'admin.enable = false;')
    assert.equal(e.users.xoa, undefined)
    assert.deepEqual(e.sudo.extraRules, [])
    assert.deepEqual(e.openssh, {})
  })

  test('package: a prebuilt XO replaces xo-build; current points at it', (t) => {
    const e = evalModule(
      tempDir(t),
      'package = { type = "derivation"; name = "xo-prebuilt"; outPath = "/nix/store/11111111111111111111111111111111-xo-prebuilt"; };',
    )
    assert.equal(e.services['xo-build'], undefined)
    assert.ok(
      e.tmpfiles.includes(
        'L+ /var/lib/xo/current - - - - /nix/store/11111111111111111111111111111111-xo-prebuilt',
      ),
    )
  })

  test('updates.schedule: a timer running xoa upgrade', (t) => {
    const e = evalModule(tempDir(t), 'updates.schedule = "Sun 03:00";')
    assert.equal(e.timers['xoa-update'].timerConfig.OnCalendar, 'Sun 03:00')
    assert.match(e.services['xoa-update'].serviceConfig.ExecStart, /xoa upgrade --spec /)
    // It builds like xo-build (same tools, the nixpkgs Node) and rewrites a pin outside the store.
    assert.ok(e.services['xoa-update'].environment.XOA_NODE)
    assert.equal(e.spec.source.pinFile, '/var/lib/xo/xo-source.json')
    assert.ok(e.tmpfiles.some((r: string) => r.startsWith('C /var/lib/xo/xo-source.json ')))
  })

  test('without a schedule the flake pin rules', (t) => {
    const e = evalModule(tempDir(t), '')
    assert.equal(e.spec.source.pinFile, undefined)
  })

  test('reverse proxy: nginx with ACME proxies websockets to XO on loopback; XO trusts forwarded headers', (t) => {
    const dir = tempDir(t)
    const e = evalModule(
      dir,
      `host = "127.0.0.1"; port = 8080; ssl.enable = false;
       reverseProxy = { enable = true; domain = "xo.example.com"; acmeEmail = "ops@example.com"; };`,
    )
    assert.deepEqual(e.failedAssertions, [])
    const vh = e.nginx.virtualHosts['xo.example.com']
    assert.equal(vh.enableACME, true)
    assert.equal(vh.forceSSL, true)
    assert.deepEqual(vh.locations['/'], { proxyPass: 'http://127.0.0.1:8080', proxyWebsockets: true })
    assert.equal(e.acme.defaults.email, 'ops@example.com')
    assert.equal(e.acme.acceptTerms, true)
    assert.equal(e.spec.xo.settings.http.useForwardedHeaders, true)
    assert.equal(validate(dir, e.specText).status, 0)
  })

  // One case per assertion: the message names the option.
  const cases: [string, string, RegExp][] = [
    ['port clash', 'port = 443;', /xoa\.xo\.httpsPort must differ from xoa\.xo\.port/],
    [
      'root service user',
      'service.user = "root";',
      /xoa\.xo\.service\.user and xoa\.xo\.service\.group must not be root/,
    ],
    [
      'root service group',
      'service.group = "root";',
      /xoa\.xo\.service\.user and xoa\.xo\.service\.group must not be root/,
    ],
    [
      'admin is the service user',
      'admin.user = "xo";',
      /xoa\.xo\.admin\.user must differ from xoa\.xo\.service\.user/,
    ],
    [
      'password file in the store',
      'webAdmin.passwordFile = "/nix/store/abc-pw";',
      /xoa\.xo\.webAdmin\.passwordFile must be an absolute path outside/,
    ],
    [
      'relative password file',
      'webAdmin.passwordFile = "pw.txt";',
      /xoa\.xo\.webAdmin\.passwordFile must be an absolute path/,
    ],
    ['redis dir', 'redis.dir = "/srv/redis";', /xoa\.xo\.redis\.dir must be \/var\/lib\/redis-xo/],
    [
      'redis socket',
      'redis.socket = "/tmp/redis.sock";',
      /xoa\.xo\.redis\.socket must be inside \/run\/redis-xo/,
    ],
    [
      'proxy without domain',
      'port = 8080; ssl.enable = false; reverseProxy = { enable = true; acmeEmail = "a@b.c"; };',
      /xoa\.xo\.reverseProxy\.domain must be set/,
    ],
    [
      'proxy without email',
      'port = 8080; ssl.enable = false; reverseProxy = { enable = true; domain = "x.y"; };',
      /xoa\.xo\.reverseProxy\.acmeEmail must be set/,
    ],
    [
      'proxy on port 80',
      'reverseProxy = { enable = true; domain = "x.y"; acmeEmail = "a@b.c"; };',
      /xoa\.xo\.port and xoa\.xo\.httpsPort must not be 80 or 443/,
    ],
  ]
  for (const [name, xo, message] of cases) {
    test(`assertion: ${name}`, (t) => {
      const e = evalModule(tempDir(t), xo)
      assert.equal(e.failedAssertions.length, 1, e.failedAssertions.join('\n'))
      assert.match(e.failedAssertions[0]!, message)
    })
  }

  test('warning: an admin without keys cannot log in', (t) => {
    const e = evalModule(tempDir(t), 'admin.authorizedKeys = lib.mkForce [ ];')
    assert.match(e.warnings.join('\n'), /xoa\.xo\.admin\.authorizedKeys is empty/)
  })
})
