# NixOS VM test (pkgs.testers.runNixOSTest): the rendered units installed and active, HTTPS ping, the declared
# admin signs in, the default credentials are refused, a VHD mounted through the broker, owners and modes as on
# Debian. Needs Nix with KVM.
#
# The VM has no network, so it cannot build XO from source: it runs a release built beforehand by `xoa build`
# (its `xo/` tree; Node comes from nixpkgs). The flake wires it as
#   XOA_VM_RELEASE=/var/lib/xo/current nix build --impure .#checks.x86_64-linux.vm -L
{ self, xoRelease }:
{ pkgs, lib, ... }:
let
  release = pkgs.runCommand "xo-release-for-test" { } ''
    mkdir -p $out
    ln -s ${xoRelease}/xo $out/xo
    ln -s ${pkgs.nodejs_22} $out/node
  '';
  adminEmail = "admin@xoa.test";
in
{
  name = "xoa";

  nodes.machine =
    { ... }:
    {
      imports = [ self.nixosModules.default ];
      virtualisation.memorySize = 2048;
      virtualisation.diskSize = 4096;
      environment.systemPackages = [
        pkgs.curl
        pkgs.jq
        pkgs.qemu-utils
      ];
      xoa.xo = {
        enable = true;
        package = release;
        hostname = "machine";
        webAdmin.email = adminEmail;
        admin.authorizedKeys = [
          "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk7cA6O3zCwQ0nqgP3dJ8wYb0WJm0Yq3g1eR8Jx5b2L test@vm"
        ];
      };
    };

  testScript = ''
    import json

    machine.wait_for_unit("redis-xo.service")
    machine.wait_for_unit("xo-bootstrap.service")
    machine.wait_for_unit("xo-server.service")
    machine.wait_for_open_port(443)
    machine.wait_for_open_port(80)

    with subtest("the rendered units, active; the build unit masked with a prebuilt release"):
        machine.succeed("systemctl is-active redis-xo xo-bootstrap xo-server xoa-mountd.socket")
        assert machine.succeed("systemctl show -P LoadState xo-build.service").strip() == "masked"
        # The unit file is the render derivation's; NixOS adds only its drop-in (nix/lib/drop-ins.nix).
        unit = machine.succeed("systemctl show -P FragmentPath xo-server.service").strip()
        assert "-xoa-rendered/lib/systemd/system/xo-server.service" in machine.succeed(f"readlink -f {unit}"), unit
        dropins = machine.succeed("systemctl show -P DropInPaths xo-server.service")
        assert "overrides.conf" in dropins, dropins

    with subtest("the broker's sandbox is the rendered one"):
        assert machine.succeed("systemctl show -P ProtectHome xoa-mountd.service").strip() == "no"
        assert machine.succeed("systemctl show -P KillMode xoa-mountd.service").strip() == "process"
        assert machine.succeed("systemctl show -P DevicePolicy xoa-mountd.service").strip() == "closed"
        assert "cap_sys_admin" in machine.succeed("systemctl show -P CapabilityBoundingSet xoa-mountd.service")

    with subtest("owners and modes as on Debian: state and secrets are root's"):
        machine.succeed("test \"$(stat -c %a:%U:%G /var/lib/xo)\" = 750:root:xo")
        machine.succeed("test \"$(stat -c %a:%U:%G /var/lib/xo/secrets)\" = 700:root:root")
        machine.succeed("test \"$(stat -c %a:%U:%G /var/lib/xo/mounts)\" = 1770:root:xo")
        machine.succeed("test \"$(stat -c %a:%U:%G /etc/xo-server/config.toml)\" = 640:root:xo")

    with subtest("HTTPS ping with the generated certificate"):
        machine.wait_until_succeeds("curl --fail --cacert /etc/ssl/xo/certificate.pem --resolve machine:443:127.0.0.1 https://machine/rest/v0/ping | grep pong", timeout=120)
        machine.succeed("openssl x509 -in /etc/ssl/xo/certificate.pem -noout -subject | grep machine")

    with subtest("the declared admin signs in; admin@admin.net/admin is refused"):
        # The password is generated on first boot into a root-only 0600 file, never the store.
        machine.succeed("test \"$(stat -c %a:%U /var/lib/xo/secrets/admin-password)\" = 600:root")
        users = machine.succeed(
            "curl --fail -k -u \"${adminEmail}:$(cat /var/lib/xo/secrets/admin-password)\" "
            "'https://127.0.0.1/rest/v0/users?fields=email,permission'"
        )
        assert any(u["email"] == "${adminEmail}" and u["permission"] == "admin" for u in json.loads(users)), users
        machine.sleep(3)  # XO throttles password attempts per user
        code = machine.succeed("curl -k -s -o /dev/null -w '%{http_code}' -u admin@admin.net:admin https://127.0.0.1/rest/v0/users")
        assert code.strip() in ("401", "403"), code

    with subtest("a VHD mounted through the broker as the service account"):
        machine.succeed("qemu-img create -f vpc /var/lib/xo/data/disk.vhd 8M && chown xo /var/lib/xo/data/disk.vhd")
        machine.succeed("install -d -o xo -g xo /var/lib/xo/mounts/vhd")
        machine.succeed(
            "runuser -u xo -- env PATH=/var/lib/xo/bin:/run/current-system/sw/bin "
            "sudo vhdimount /var/lib/xo/data/disk.vhd /var/lib/xo/mounts/vhd"
        )
        machine.succeed("test -e /var/lib/xo/mounts/vhd/vhdi1")
        machine.succeed("runuser -u xo -- env PATH=/var/lib/xo/bin:/run/current-system/sw/bin sudo umount /var/lib/xo/mounts/vhd")
        # The service account has no real sudo at all.
        machine.fail("runuser -u xo -- /run/wrappers/bin/sudo -n true")

    with subtest("sshd: keys only, no root"):
        machine.wait_for_unit("sshd.service")
        machine.succeed("sshd -T | grep -i '^passwordauthentication no'")
        machine.succeed("sshd -T | grep -i '^permitrootlogin no'")
  '';
}
