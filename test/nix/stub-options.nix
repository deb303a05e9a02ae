# Stub declarations of the NixOS options the xoa module sets, so the module can be evaluated with nixpkgs' lib
# alone (lib.evalModules) where no full nixpkgs is available. Loose on purpose: free-form where NixOS is typed,
# exact where the test reads a computed default (the Redis group) or lists must merge across files.
{ lib, ... }:
let
  inherit (lib) mkOption types;
  free = types.attrsOf types.anything;
  freeSub = extra: types.submodule ({ name, ... }: { freeformType = free; } // extra name);
  opt = type: default: mkOption { inherit type default; };
in
{
  options = {
    assertions = opt (types.listOf types.unspecified) [ ];
    warnings = opt (types.listOf types.str) [ ];
    boot.kernelModules = opt (types.listOf types.str) [ ];
    users.users = opt (types.attrsOf (freeSub (_: { }))) { };
    users.groups = opt (types.attrsOf (freeSub (_: { }))) { };
    services.redis.servers = opt (types.attrsOf (freeSub (name: {
      options.group = opt types.str "redis-${name}";
      options.user = opt types.str "redis-${name}";
    }))) { };
    services.openssh = opt free { };
    services.nginx = opt free { };
    security.acme = opt free { };
    security.sudo = {
      enable = opt types.bool false;
      extraRules = opt (types.listOf free) [ ];
      extraConfig = opt types.lines "";
    };
    networking.firewall.allowedTCPPorts = opt (types.listOf types.port) [ ];
    environment.systemPackages = opt (types.listOf types.package) [ ];
    environment.etc = opt (types.attrsOf (freeSub (_: { }))) { };
    environment.variables = opt (types.attrsOf types.str) { };
    systemd.services = opt (types.attrsOf (freeSub (_: { }))) { };
    systemd.sockets = opt (types.attrsOf (freeSub (_: { }))) { };
    systemd.timers = opt (types.attrsOf (freeSub (_: { }))) { };
    systemd.tmpfiles.rules = opt (types.listOf types.str) [ ];
  };
}
