// Opt-in (NIXPKGS_LIB): the NixOS units are the rendered ones. The module puts its render derivation in
// systemd.packages and systemd.tmpfiles.packages; every unit definition it makes is a drop-in of a rendered unit
// carrying only the allowlisted directives (nix/lib/drop-ins.nix); its wantedBy is the rendered [Install]; every
// rendered file is installed, or NixOS owns that part natively (named below).
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { REPO, tempDir, XOA_BIN } from '../helpers.ts'
import {
  type Evaluated,
  evalModule,
  type RenderedJson,
  renderOf,
  skipNoLib,
  unitsOf,
  wantedByOf,
} from './eval-module.ts'

/** Rendered files NixOS does not install, because a native NixOS option owns that part (and why). */
const NIXOS_NATIVE: Record<string, string> = {
  '/etc/sudoers.d/xoa-admin': 'security.sudo.extraRules',
  '/etc/sudoers.d/xo-mount': 'security.sudo.extraRules, from the same platform',
  '/etc/ssh/sshd_config.d/xoa.conf': 'services.openssh.settings',
  '/home/xoa/.ssh/authorized_keys': 'users.users.<admin>.openssh.authorizedKeys.keys',
}

/** Where the module installs a rendered file, or undefined. */
function installed(e: Evaluated, f: RenderedJson): string | undefined {
  if (f.path.startsWith('/etc/systemd/system/'))
    return e.systemdPackages.includes(e.rendered.path) ? 'systemd.packages' : undefined
  if (f.path === '/etc/tmpfiles.d/xoa.conf')
    return e.tmpfilesPackages.includes(e.rendered.path) ? 'systemd.tmpfiles.packages' : undefined
  const etc = f.path.startsWith('/etc/') ? e.etc[f.path.slice(5)] : undefined
  if (etc?.source === `${e.rendered.path}${f.path}`) return 'environment.etc'
  if (e.tmpfiles.includes(`L+ ${f.path} - - - - ${e.rendered.path}${f.path}`)) return 'systemd.tmpfiles.rules'
  return undefined
}

const CASES: [string, string][] = [
  ['defaults', ''],
  ['sudo mode, high ports', 'mounts.mode = "sudo"; port = 8080; httpsPort = 8443;'],
  ['no mounts, no admin', 'mounts.mode = "none"; admin.enable = false;'],
  ['scheduled upgrades', 'updates.schedule = "Sun 03:00";'],
  [
    'prebuilt release',
    'package = { type = "derivation"; name = "xo-prebuilt"; outPath = "/nix/store/11111111111111111111111111111111-xo-prebuilt"; };',
  ],
]

describe('NixOS units are the rendered ones (lib.evalModules)', { skip: skipNoLib }, () => {
  for (const [name, xo] of CASES) {
    test(`${name}: the render derivation, its files installed, drop-ins only`, (t) => {
      const dir = tempDir(t)
      const e = evalModule(dir, xo)
      assert.deepEqual(e.failedAssertions, [])
      // The render derivation is what NixOS installs units and directories from (renderOf checks its script).
      assert.deepEqual(e.systemdPackages, [e.rendered.path])
      assert.deepEqual(e.tmpfilesPackages, [e.rendered.path])
      const files = renderOf(dir, e)
      for (const f of files) {
        const where = installed(e, f) ?? NIXOS_NATIVE[f.path]
        assert.ok(where, `${f.path} is rendered but NixOS neither installs it nor owns it natively`)
      }
      const units = unitsOf(files)
      const defined = [
        ...Object.entries(e.services).map(([n, u]) => [`${n}.service`, u] as const),
        ...Object.entries(e.sockets).map(([n, u]) => [`${n}.socket`, u] as const),
        ...Object.entries(e.timers).map(([n, u]) => [`${n}.timer`, u] as const),
      ]
      assert.ok(defined.length >= 3, 'the module defines its drop-ins')
      const allowed = new Set(e.allowlist.directives)
      for (const [unit, u] of defined) {
        // A definition without a rendered unit of that name would make NixOS generate a whole unit of its own.
        assert.ok(units.has(unit), `${unit}: defined in Nix but not rendered`)
        assert.equal(u.overrideStrategy, 'asDropinIfExists')
        for (const d of u.directives)
          assert.ok(allowed.has(d), `${unit}: drop-in directive ${d} not allowlisted`)
        const builder =
          e.allowlist.builders.includes(unit.replace(/\.service$/, '')) && unit.endsWith('.service')
        if (!builder)
          assert.ok(!u.directives.some((d) => d.startsWith('Environment=')), `${unit}: ${u.directives}`)
        if (u.enable) assert.deepEqual(u.wantedBy, wantedByOf(units.get(unit)!.content), `${unit}: wantedBy`)
      }
      // And the other way round: every rendered unit NixOS must start has its wantedBy.
      for (const [unit, f] of units) {
        const [n, kind] = [unit.replace(/\.[a-z]+$/, ''), unit.split('.').pop()]
        const def = (kind === 'service' ? e.services : kind === 'socket' ? e.sockets : e.timers)[n]
        if (wantedByOf(f.content).length > 0 && def?.enable !== false)
          assert.deepEqual(def?.wantedBy, wantedByOf(f.content), `${unit} is not started on NixOS`)
      }
    })
  }

  test('the derivation, built: units in lib/systemd/system, tmpfiles.d in lib/tmpfiles.d, where NixOS looks', (t) => {
    const dir = tempDir(t)
    const e = evalModule(dir)
    const spec = join(dir, 'spec.json')
    const platform = join(dir, 'platform.json')
    writeFileSync(spec, e.specText)
    writeFileSync(platform, e.platformText)
    // The derivation's own script, with the bundled CLI in place of the store's (and a spec file we can write).
    const script = e.rendered.script
      .replace(
        `${e.cli}/bin/xoa render`,
        `${JSON.stringify(process.execPath)} ${JSON.stringify(XOA_BIN)} render`,
      )
      .replace(e.specFile, spec)
      .replace(e.platformFile, platform)
    const out = join(dir, 'out')
    const r = spawnSync('bash', ['-euo', 'pipefail', '-c', script], {
      encoding: 'utf8',
      env: { ...process.env, out },
    })
    assert.equal(r.status, 0, r.stderr)
    const units = readdirSync(join(out, 'lib', 'systemd', 'system')).sort()
    assert.deepEqual(units, [...unitsOf(renderOf(dir, e)).keys()].sort())
    assert.ok(existsSync(join(out, 'lib', 'tmpfiles.d', 'xoa.conf')))
    assert.ok(!existsSync(join(out, 'etc', 'systemd')), 'units left under etc/systemd too')
    // What the module links into /etc and the state dir is there.
    for (const rel of [
      'etc/xo-server/config.toml',
      'etc/xoa/xo-server.env',
      'etc/xoa/redis-xo.conf',
      'var/lib/xo/bin/sudo',
    ])
      assert.ok(existsSync(join(out, rel)), rel)
  })

  test('xo-server and the broker: the rendered sandbox reaches NixOS whole (no PATH or other override)', (t) => {
    const dir = tempDir(t)
    const e = evalModule(dir)
    const units = unitsOf(renderOf(dir, e))
    assert.deepEqual(e.services['xo-server']!.directives, ['X-Restart-Triggers'])
    assert.deepEqual(e.services['xo-server']!.environment, {})
    // The broker's unit gets no drop-in at all: its sandbox is exactly the rendered one.
    assert.equal(e.services['xoa-mountd'], undefined)
    // The engine in every xoa unit runs on the platform it was rendered with.
    for (const u of ['xo-bootstrap.service', 'xo-build.service', 'xoa-mountd.service'])
      assert.match(units.get(u)!.content, new RegExp(`^Environment=XOA_PLATFORM=${e.platformFile}$`, 'm'), u)
    // xo-server's PATH: the broker's shim, then sudo's own directory, then the store tools; no /run/wrappers.
    const path = /^Environment=PATH=(.*)$/m.exec(units.get('xo-server.service')!.content)![1]!.split(':')
    assert.equal(path[0], '/var/lib/xo/bin')
    assert.equal(path[1], e.platform.tools.sudo!.replace(/\/sudo$/, ''))
    assert.ok(path.includes(e.platform.tools.mount!.replace(/\/mount$/, '')))
    assert.ok(!path.some((d) => d.startsWith('/run/wrappers')), path.join(':'))
    const broker = units.get('xoa-mountd.service')!.content
    assert.doesNotMatch(broker, /^ProtectHome=/m)
    for (const d of [
      'CapabilityBoundingSet=CAP_SYS_ADMIN',
      'SystemCallFilter=',
      'DevicePolicy=closed',
      'KillMode=process',
    ])
      assert.match(broker, new RegExp(`^${d}`, 'm'))
  })

  test('directories: the rendered tmpfiles.d, root-owned state and secrets as on Debian', (t) => {
    const dir = tempDir(t)
    const e = evalModule(dir)
    const tmpfiles = renderOf(dir, e).find((f) => f.path === '/etc/tmpfiles.d/xoa.conf')!.content
    assert.match(tmpfiles, /^d \/var\/lib\/xo 0750 root xo - -$/m)
    assert.match(tmpfiles, /^d \/var\/lib\/xo\/secrets 0700 root root - -$/m)
    assert.match(tmpfiles, /^d \/var\/lib\/xo\/mounts 1770 root xo - -$/m)
    // The module's own tmpfiles rules are only the NixOS-only links (here: the broker's shims).
    assert.deepEqual(
      e.tmpfiles,
      ['sudo', 'mount.cifs'].map(
        (n) => `L+ /var/lib/xo/bin/${n} - - - - ${e.rendered.path}/var/lib/xo/bin/${n}`,
      ),
    )
  })

  test('files under /etc have the owner and mode the render gives them', (t) => {
    const dir = tempDir(t)
    const e = evalModule(dir)
    for (const f of renderOf(dir, e)) {
      const etc = f.path.startsWith('/etc/') ? e.etc[f.path.slice(5)] : undefined
      if (!etc) continue
      const group = f.group === 'root' ? '+0' : f.group
      if (f.mode === '0644' && f.owner === 'root' && f.group === 'root') {
        // World-readable, root's: a link into the store says the same.
        assert.equal(etc.mode, 'symlink', f.path)
        continue
      }
      assert.deepEqual(
        [etc.mode, etc.user, etc.group],
        [f.mode, f.owner === 'root' ? '+0' : f.owner, group],
        f.path,
      )
    }
  })

  test('the platform the units are rendered with names store paths (sudo: alone, a link to the wrapper)', (t) => {
    const e = evalModule(tempDir(t))
    assert.equal(e.platform.name, 'nixos')
    assert.deepEqual(JSON.parse(e.platformText), e.platform)
    for (const [tool, path] of Object.entries(e.platform.tools))
      assert.match(path, /^\/nix\/store\/[0-9a-z]{32}-[^/]+\/bin\/[^/]+$/, tool)
    // sudo's directory holds nothing else, and /run/wrappers/bin (setuid mount, umount) is not on the PATH.
    assert.match(e.platform.tools.sudo!, /-xoa-sudo-wrapper\/bin\/sudo$/)
    assert.ok(!e.platform.path?.some((d) => d.startsWith('/run/wrappers')), String(e.platform.path))
    for (const tool of ['setpriv', 'script', 'redis-server', 'nologin', 'mount', 'vhdimount', 'sudo'])
      assert.ok(e.platform.tools[tool], `${tool} missing`)
  })

  test('a drop-in outside the allowlist is refused at evaluation time', (t) => {
    const dir = tempDir(t)
    const dropIns = JSON.stringify(join(REPO, 'nix', 'lib', 'drop-ins.nix'))
    const define = (attrs: string) =>
      `systemd.services.xo-server = (import ${dropIns} { inherit lib; }).dropIn "services" "xo-server" { ${attrs} };`
    // The same helper with an allowlisted attribute evaluates.
    evalModule(dir, '', 'ok', define('restartTriggers = [ "x" ];'))
    assert.throws(
      () => evalModule(dir, '', 'sandbox', define('serviceConfig.ProtectHome = true;')),
      /may not set serviceConfig/,
    )
    assert.throws(() => evalModule(dir, '', 'env', define('path = [ ];')), /only the builders/)
  })
})
