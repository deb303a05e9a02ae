// Opt-in (NIXPKGS_LIB): the NixOS module evaluated with nixpkgs' lib. Proves that every spec field has an
// option with the spec's default, that the JSON the module writes is a spec `xoa validate` accepts, and what
// the module declares natively: accounts, sshd, firewall, sudo (seed mode only), nginx, assertions. The units
// and directories are the render's: test/nix/units.test.ts.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { tempDir, xoa } from '../helpers.ts'
import { evalModule, KEY, renderOf, skipNoLib, unitsOf } from './eval-module.ts'

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
    assert.equal(e.etc['xoa/xoa.json']!.source, e.specFile)
    assert.equal(e.etc['xo-server/config.toml']!.source, `${e.rendered.path}/etc/xo-server/config.toml`)
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
    // The value reaches xo-server through the rendered environment file, not a NixOS Environment=.
    const env = renderOf(dir, e).find((f) => f.path === '/etc/xoa/xo-server.env')!
    assert.match(env.content, /^NODE_OPTIONS="--max-old-space-size=4096"$/m)
    assert.deepEqual(e.services['xo-server']!.environment, {})
  })

  test('a secret env value as { file }: only its path reaches the spec and the render', (t) => {
    const dir = tempDir(t)
    const secret = join(dir, 'ldap-password')
    writeFileSync(secret, 's3cret-value-never-rendered', { mode: 0o600 })
    const e = evalModule(
      dir,
      `extraServerEnv = { A = "plain"; LDAP_PASSWORD = { file = "${secret}"; }; };
       settings.authentication.ldap.bind.password = { file = "${secret}"; };`,
    )
    assert.deepEqual(e.failedAssertions, [])
    assert.deepEqual(e.spec.xo.extraServerEnv, { A: 'plain', LDAP_PASSWORD: { file: secret } })
    const v = validate(dir, e.specText)
    assert.equal(v.status, 0, v.stderr)
    const files = renderOf(dir, e)
    for (const f of files) assert.doesNotMatch(f.content, /s3cret-value/, f.path)
    assert.match(files.find((f) => f.path === '/etc/xoa/xo-server.env')!.content, /^A="plain"$/m)
  })

  test('a spec the CLI rejects is rejected: the JSON carries the bad value to `xoa validate`', (t) => {
    const dir = tempDir(t)
    const e = evalModule(dir, `dataDir = "relative/dir";`)
    const v = validate(dir, e.specText)
    assert.equal(v.status, 2)
    assert.match(v.stderr, /xo\.dataDir: must be an absolute path/)
  })

  test('accounts: xo is a system user without a shell or privileges; xoa is key-only with sudo', (t) => {
    const e = evalModule(tempDir(t))
    const xo = e.users.xo
    assert.equal(xo.isSystemUser, true)
    assert.equal(xo.shell, e.platform.tools.nologin)
    assert.match(xo.shell, /^\/nix\/store\/\S+-shadow\/bin\/nologin$/)
    assert.deepEqual(xo.extraGroups, ['redis-xo'])
    assert.ok(!xo.extraGroups.includes('wheel'))
    assert.deepEqual(e.groups, ['redis-xo', 'xo'])
    // The account the rendered redis-xo.service runs as.
    const redis = e.users['redis-xo']
    assert.deepEqual([redis.isSystemUser, redis.group, redis.home], [true, 'redis-xo', '/var/lib/redis-xo'])
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

  test('sshd hardened; seed firewall ports', (t) => {
    const e = evalModule(tempDir(t))
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
    // The same binaries the platform names, which the units are rendered with.
    for (const c of cmds) assert.equal(c, e.platform.tools[c.split('/').pop()!], c)
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
  })

  test('mounts.mode = "none": neither broker nor sudo rules', (t) => {
    const e = evalModule(tempDir(t), 'mounts.mode = "none";')
    assert.equal(e.sockets['xoa-mountd'], undefined)
    assert.deepEqual(
      e.sudo.extraRules.map((r) => r.users),
      [['xoa']],
    )
  })

  test('admin.enable = false: no admin account, no sudo rule, no sshd changes', (t) => {
    const e = evalModule(tempDir(t), 'admin.enable = false;')
    assert.equal(e.users.xoa, undefined)
    assert.deepEqual(e.sudo.extraRules, [])
    // sshd as NixOS declares it by default: off, passwords allowed (the module changed nothing).
    assert.equal(e.openssh.enable, false)
    assert.equal(e.openssh.settings.PasswordAuthentication, true)
    assert.equal(e.openssh.settings.AllowUsers, null)
  })

  test('package: a prebuilt XO replaces xo-build; current points at it', (t) => {
    const e = evalModule(
      tempDir(t),
      'package = { type = "derivation"; name = "xo-prebuilt"; outPath = "/nix/store/11111111111111111111111111111111-xo-prebuilt"; };',
    )
    // The rendered xo-build.service is masked (NixOS links it to /dev/null).
    assert.equal(e.services['xo-build']!.enable, false)
    assert.ok(
      e.tmpfiles.includes(
        'L+ /var/lib/xo/current - - - - /nix/store/11111111111111111111111111111111-xo-prebuilt',
      ),
    )
  })

  test('updates.schedule: a timer running xoa upgrade', (t) => {
    const e = evalModule(tempDir(t), 'updates.schedule = "Sun 03:00";', 'scheduled')
    const dir = tempDir(t)
    const units = unitsOf(renderOf(dir, e))
    assert.match(units.get('xoa-update.timer')!.content, /^OnCalendar=Sun 03:00$/m)
    assert.match(units.get('xoa-update.service')!.content, /xoa upgrade --spec /)
    assert.deepEqual(e.timers['xoa-update']!.wantedBy, ['timers.target'])
    // It builds like xo-build (same tools, the nixpkgs Node) and rewrites a pin outside the store.
    assert.match(e.services['xoa-update']!.environment.XOA_NODE!, /-nodejs_22\/bin\/node$/)
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
    [
      'secret file in the store',
      'settings.authentication.ldap.bind.password = { file = "/nix/store/abc-pw"; };',
      /xoa\.xo\.extraServerEnv and xoa\.xo\.settings: \{ file = \.\.\.; \} must name an absolute path outside/,
    ],
    [
      'relative secret file',
      'settings.x.y = { file = "pw"; };',
      /must name an absolute path outside \/nix\/store .*not pw;/,
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
