# What NixOS adds to the rendered units (nix/module/rendered.nix installs them): when they start, what restarts
# them, the builders' toolchain. Nothing here sets how a unit runs or is sandboxed; nix/lib/drop-ins.nix is the
# allowlist every definition below goes through.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.xoa.xo;
  inherit (import ../lib/drop-ins.nix { inherit lib; }) dropIn;
  scheduled = cfg.updates.schedule != null;

  # What a build needs besides the engine: for xo-build and the scheduled upgrade (which builds too).
  builder =
    name:
    dropIn "services" name {
      path = with pkgs; [
        git
        nodejs_22
        python3
        gnumake
        gcc
      ];
      environment.XOA_NODE = "${pkgs.nodejs_22}/bin/node";
    };
in
{
  config = lib.mkIf cfg.enable {
    systemd.services = {
      redis-xo = dropIn "services" "redis-xo" {
        wantedBy = [ "multi-user.target" ];
        # Its config (/etc/xoa/redis-xo.conf) is rendered from spec.redis alone, by this CLI.
        restartTriggers = [
          (builtins.toJSON cfg.spec.redis)
          cfg.cliPackage
        ];
      };
      xo-server = dropIn "services" "xo-server" {
        wantedBy = [ "multi-user.target" ];
        # config.toml and the env file live in /etc: a new spec restarts xo-server even when its unit is unchanged.
        restartTriggers = [ cfg.rendered ];
      };
      # xoa state apply after every start of xo-server (docs/xo-state.md); a new spec restarts xo-server, so
      # it runs again with it.
      xoa-state = dropIn "services" "xoa-state" { wantedBy = [ "xo-server.service" ]; };
      # xo-build is in the render; with a prebuilt release (xoa.xo.package) it is masked instead.
      xo-build =
        if cfg.package == null then builder "xo-build" else dropIn "services" "xo-build" { enable = false; };
    }
    // lib.optionalAttrs scheduled { xoa-update = builder "xoa-update"; };

    systemd.sockets = lib.optionalAttrs (cfg.mounts.mode == "broker") {
      xoa-mountd = dropIn "sockets" "xoa-mountd" { wantedBy = [ "sockets.target" ]; };
    };
    systemd.timers = lib.optionalAttrs scheduled {
      xoa-update = dropIn "timers" "xoa-update" { wantedBy = [ "timers.target" ]; };
    };

    # Scheduled upgrades: the host follows its channel on its own. Its pin then lives in the state dir, seeded
    # once from the flake's pin (nix/module/rendered.nix); without a schedule the flake's pin is the only one.
    xoa.xo.source.pinFile = lib.mkIf scheduled (lib.mkDefault "${cfg.stateDir}/xo-source.json");
  };
}
