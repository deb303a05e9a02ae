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

  # The directives NixOS writes for a unit definition (nixos/lib/systemd-lib.nix: commonUnitText, serviceToUnit,
  # socketToUnit, timerToUnit), by name; for a unit shipped by a package that is its drop-in, overrides.conf.
  nonEmpty = attrs: lib.attrNames (lib.filterAttrs (_: v: v != [ ]) attrs);
  unitDirectives =
    u:
    lib.optional (u.description != "") "Description"
    ++ nonEmpty {
      Documentation = u.documentation;
      Requires = u.requires;
      Wants = u.wants;
      After = u.after;
      Before = u.before;
      BindsTo = u.bindsTo;
      PartOf = u.partOf;
      Conflicts = u.conflicts;
      Requisite = u.requisite;
      OnFailure = u.onFailure;
      X-Restart-Triggers = u.restartTriggers;
      X-Reload-Triggers = u.reloadTriggers;
    }
    ++ lib.attrNames u.unitConfig;
  serviceDirectives =
    s:
    unitDirectives s
    ++ map (n: "Environment=${n}") (lib.attrNames (lib.filterAttrs (_: v: v != null) s.environment))
    ++ lib.optional (!s.restartIfChanged) "X-RestartIfChanged"
    ++ lib.optional s.reloadIfChanged "X-ReloadIfChanged"
    ++ lib.optional (!s.stopIfChanged) "X-StopIfChanged"
    ++ lib.attrNames s.serviceConfig;
  unitView = directives: u: {
    inherit (u) enable wantedBy overrideStrategy;
    directives = directives u;
  };
in
{
  failedAssertions = map (a: a.message) (lib.filter (a: !a.assertion) c.assertions);
  inherit (c) warnings;
  spec = c.xoa.xo.spec;
  specText = c.xoa.xo.specFile.text;
  specFile = "${c.xoa.xo.specFile}";
  platform = c.xoa.xo.platform;
  platformText = c.xoa.xo.platformFile.text;
  platformFile = "${c.xoa.xo.platformFile}";
  rendered = {
    path = "${c.xoa.xo.rendered}";
    inherit (c.xoa.xo.rendered) script;
  };
  cli = "${c.xoa.xo.cliPackage}";
  options = describe eval.options.xoa.xo;
  users = c.users.users;
  groups = lib.attrNames c.users.groups;
  openssh = c.services.openssh;
  nginx = c.services.nginx;
  acme = c.security.acme;
  sudo = c.security.sudo;
  firewallPorts = c.networking.firewall.allowedTCPPorts;
  systemPackages = map (p: p.name) c.environment.systemPackages;
  etc = lib.mapAttrs (_: e: { inherit (e) source mode user group; }) c.environment.etc;
  inherit (c.environment) variables;
  systemdPackages = map (p: "${p}") c.systemd.packages;
  tmpfilesPackages = map (p: "${p}") c.systemd.tmpfiles.packages;
  tmpfiles = c.systemd.tmpfiles.rules;
  services = lib.mapAttrs (_: s: unitView serviceDirectives s // { inherit (s) environment path; }) c.systemd.services;
  sockets = lib.mapAttrs (_: unitView unitDirectives) c.systemd.sockets;
  timers = lib.mapAttrs (_: unitView unitDirectives) c.systemd.timers;
  allowlist = removeAttrs (import ../../nix/lib/drop-ins.nix { inherit lib; }) [ "dropIn" ];
}
