# The example host: Xen Orchestra with the seed's defaults (HTTP 80, HTTPS 443 with a self-signed certificate,
# Redis on a socket, mounts through the broker, SSH-only admin `xoa`). Deploy with `xoa install` or
# `sudo nixos-rebuild switch --flake .#xoa -L --show-trace`.
{ lib, ... }:
let
  vars = import ./vars.nix;
  net = vars.network;
in
{
  # Copied here by `xoa init` from /etc/nixos; add it to git (flakes only see tracked files).
  imports = lib.optional (builtins.pathExists ./hardware-configuration.nix) ./hardware-configuration.nix;

  networking.hostName = vars.hostname;
  time.timeZone = vars.timezone;

  networking.useDHCP = net == null;
  networking.interfaces = lib.optionalAttrs (net != null) {
    ${net.interface}.ipv4.addresses = [
      {
        inherit (net) address prefixLength;
      }
    ];
  };
  networking.defaultGateway = lib.mkIf (net != null) net.gateway;
  networking.nameservers = lib.mkIf (net != null) (net.dns or [ ]);

  xoa.xo = {
    enable = true;
    hostname = vars.hostname;
    admin.authorizedKeys = vars.adminSshKeys;
    # The web admin is declared: its password is generated into /var/lib/xo/secrets/admin-password on first
    # boot (or set webAdmin.passwordFile to a root-owned 0600 file). admin@admin.net/admin never exists.
    webAdmin.email = "admin@${vars.hostname}.local";
  };

  # Without hardware-configuration.nix (evaluation, CI) a minimal bootable placeholder.
  boot.loader.grub.device = lib.mkDefault "nodev";
  fileSystems."/" = lib.mkDefault {
    device = "/dev/disk/by-label/nixos";
    fsType = "ext4";
  };

  nix.settings.experimental-features = [
    "nix-command"
    "flakes"
  ];
  system.stateVersion = "25.05";
}
