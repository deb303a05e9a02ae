# Evaluates the xoa module with stubbed NixOS options and prints what the tests assert on, as JSON:
#   nix-instantiate --eval --strict --json test/nix/eval.nix --argstr nixpkgsLib DIR --argstr configFile FILE
{ nixpkgsLib, configFile }:
let
  lib = import (/. + nixpkgsLib);
  pkgs = import ./stub-pkgs.nix { inherit lib; };
  eval = lib.evalModules {
    modules = [
      ./stub-options.nix
      ../../nix/module/default.nix
      (/. + configFile)
      { _module.args.pkgs = pkgs; }
    ];
  };
  c = eval.config;
  # Option tree under xoa.xo: default and description of every declared option, internal ones left out.
  describe =
    opts:
    lib.mapAttrs (
      _: o:
      if lib.isOption o then
        {
          default = o.default or null;
          description = o.description or null;
          internal = o.internal or false;
        }
      else
        describe o
    ) (lib.filterAttrs (n: _: n != "_module") opts);
in
{
  failedAssertions = map (a: a.message) (lib.filter (a: !a.assertion) c.assertions);
  inherit (c) warnings;
  spec = c.xoa.xo.spec;
  specText = c.xoa.xo.specFile.text;
  options = describe eval.options.xoa.xo;
  users = c.users.users;
  groups = lib.attrNames c.users.groups;
  redis = c.services.redis.servers;
  openssh = c.services.openssh;
  nginx = c.services.nginx;
  acme = c.security.acme;
  sudo = c.security.sudo;
  firewallPorts = c.networking.firewall.allowedTCPPorts;
  systemPackages = map (p: p.name) c.environment.systemPackages;
  etc = lib.mapAttrs (_: e: e.source) c.environment.etc;
  inherit (c.environment) variables;
  services = c.systemd.services;
  sockets = c.systemd.sockets;
  timers = c.systemd.timers;
  tmpfiles = c.systemd.tmpfiles.rules;
}
