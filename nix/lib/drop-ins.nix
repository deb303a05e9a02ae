# The one allowlist of what the xoa module may add to the units `xoa render` produces (installed from the render
# derivation through systemd.packages). Everything a unit runs with, its sandbox above all, comes from the
# renderer; NixOS adds only what NixOS must own. The module builds every unit definition through `dropIn`,
# which refuses anything else at evaluation time; test/nix/module.test.ts checks the evaluated units against
# the same list, directive by directive.
{ lib }:
let
  # Attributes of systemd.{services,sockets,timers}.<name>, each with the reason NixOS owns it.
  attributes = {
    # NixOS ignores [Install] (units are not `systemctl enable`d): it makes the .wants symlinks from this.
    wantedBy = "the [Install] WantedBy= of the rendered unit, as NixOS links it";
    # X-Restart-Triggers=: switch-to-configuration restarts the unit when a file it reads at start changed.
    restartTriggers = "restart when a rendered file the unit reads (not its own text) changed";
    # false masks a rendered unit (xo-build with a prebuilt `xoa.xo.package`).
    enable = "mask a rendered unit the NixOS options turn off";
    # Cleared with mkForce for every unit but the builders: NixOS would otherwise add its own PATH= to the
    # drop-in, overriding the PATH the renderer gives xo-server.
    environment = "NixOS-only variables (allowlisted below), or nothing";
    # The builders' toolchain comes from nixpkgs (apt packages on Debian): Environment=PATH= in their drop-in.
    path = "the build toolchain from nixpkgs";
  };
  # Environment= variables a drop-in may set (PATH only through `path`).
  environment = {
    # The registry's prebuilt Node does not run on NixOS: builds use the one from nixpkgs.
    XOA_NODE = "the Node from nixpkgs the build uses";
    PATH = "made by NixOS from `path` (builders only)";
  };
  # Units whose drop-in may carry `path` and XOA_NODE.
  builders = [
    "xo-build"
    "xoa-update"
  ];

  # kind: "services", "sockets" or "timers" (only services have an environment).
  dropIn =
    kind: name: attrs:
    let
      bad = lib.attrNames (lib.removeAttrs attrs (lib.attrNames attributes));
      badEnv = lib.attrNames (lib.removeAttrs (attrs.environment or { }) (lib.attrNames environment));
      builder = lib.elem name builders;
    in
    if bad != [ ] then
      throw "xoa: the drop-in of ${name} may not set ${lib.concatStringsSep ", " bad} (nix/lib/drop-ins.nix)"
    else if badEnv != [ ] then
      throw "xoa: the drop-in of ${name} may not set ${lib.concatStringsSep ", " badEnv} (nix/lib/drop-ins.nix)"
    else if !(kind == "services" && builder) && (attrs ? path || attrs ? environment) then
      throw "xoa: only the builders' drop-ins may set path or environment (${name}, nix/lib/drop-ins.nix)"
    else
      attrs // lib.optionalAttrs (kind == "services" && !builder) { environment = lib.mkForce { }; };
in
{
  inherit
    attributes
    environment
    builders
    dropIn
    ;
  # The directives a drop-in may carry as NixOS writes them (nixos/lib/systemd-lib.nix, serviceToUnit).
  directives = [
    "X-Restart-Triggers"
  ]
  ++ map (v: "Environment=${v}") (lib.attrNames environment);
}
