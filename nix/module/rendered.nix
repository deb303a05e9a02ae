# The engine's own artefacts on NixOS: one derivation runs the packaged CLI, `xoa render all`, with the spec the
# options describe and the NixOS platform (where each tool lives in the store). Its units go in through
# systemd.packages and its directories through systemd.tmpfiles.packages, the way nixpkgs ships upstream's
# (nixos/modules/services/system/nix-daemon.nix: `systemd.packages = [ nixPackage ]`,
# `systemd.tmpfiles.packages = [ nixPackage ]`). The files under /etc are linked or copied from it.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  inherit (lib) mkOption types;
  cfg = config.xoa.xo;
  xoa = "${cfg.cliPackage}/bin/xoa";
  exe = lib.getExe';
  util = pkgs.util-linux;

  # sudo in a directory of its own, a link to the setuid wrapper NixOS keeps in /run/wrappers (a store file
  # cannot be setuid): /run/wrappers/bin also holds setuid `mount`/`umount`, which must not come first on
  # xo-server's PATH, or `sudo mount` would resolve to a file the sudo rules do not allow.
  sudoOnly = pkgs.runCommand "xoa-sudo-wrapper" { } ''
    mkdir -p $out/bin
    ln -s /run/wrappers/bin/sudo $out/bin/sudo
  '';

  # The platform description (src/platform/, docs/platform.md): each tool the engine and the renderers name, by
  # store path. xo-server's PATH is the directories of the tools it runs, then `path`.
  platform = {
    name = "nixos";
    tools = {
      setpriv = exe util "setpriv";
      script = exe util "script";
      unshare = exe util "unshare";
      mount = exe util "mount";
      umount = exe util "umount";
      findmnt = exe util "findmnt";
      "mount.nfs" = exe pkgs.nfs-utils "mount.nfs";
      "mount.nfs4" = exe pkgs.nfs-utils "mount.nfs4";
      "mount.cifs" = exe pkgs.cifs-utils "mount.cifs";
      vhdimount = exe cfg.libvhdiPackage "vhdimount";
      vhdiinfo = exe cfg.libvhdiPackage "vhdiinfo";
      "redis-server" = exe pkgs.redis "redis-server";
      nologin = exe pkgs.shadow "nologin";
      bash = exe pkgs.bash "bash";
      "ssh-keygen" = exe pkgs.openssh "ssh-keygen";
      sshd = exe pkgs.openssh "sshd";
      sudo = exe sudoOnly "sudo";
      visudo = exe pkgs.sudo "visudo";
      systemctl = exe config.systemd.package "systemctl";
      journalctl = exe config.systemd.package "journalctl";
      "systemd-analyze" = exe config.systemd.package "systemd-analyze";
      useradd = exe pkgs.shadow "useradd";
      groupadd = exe pkgs.shadow "groupadd";
      usermod = exe pkgs.shadow "usermod";
      tar = exe pkgs.gnutar "tar";
      git = exe pkgs.git "git";
    };
    # After the tools' own directories: what else xo-server runs by name (LVM for file-level restore, openssl),
    # then the system profile.
    path = [
      "${lib.getBin pkgs.lvm2}/bin"
      "${lib.getBin pkgs.openssl}/bin"
      "${lib.getBin pkgs.coreutils}/bin"
      "/run/current-system/sw/bin"
    ];
  };
  platformFile = pkgs.writeText "xoa-platform-nixos.json" (builtins.toJSON platform);

  # Units to lib/systemd/system and the tmpfiles.d file to lib/tmpfiles.d, where NixOS looks for a package's.
  rendered = pkgs.runCommand "xoa-rendered" { } ''
    ${xoa} render all --spec ${cfg.specFile} --out $out --xoa-command ${xoa} --platform ${platformFile} > /dev/null
    mkdir -p $out/lib/systemd $out/lib/tmpfiles.d
    mv $out/etc/systemd/system $out/lib/systemd/system
    mv $out/etc/tmpfiles.d/xoa.conf $out/lib/tmpfiles.d/xoa.conf
    rmdir $out/etc/systemd $out/etc/tmpfiles.d
  '';
  # The broker's shims, beside each other first on xo-server's PATH: `sudo` and the `mount.cifs -V` probe.
  shims = map (n: "${cfg.stateDir}/bin/${n}") [
    "sudo"
    "mount.cifs"
  ];
in
{
  options.xoa.xo = {
    platform = mkOption {
      type = types.attrsOf types.anything;
      readOnly = true;
      internal = true;
      description = "The NixOS platform (tool name → store path) the units are rendered with and the engine runs with.";
    };
    platformFile = mkOption {
      type = types.path;
      readOnly = true;
      internal = true;
      description = "The platform as JSON in the store, `--platform` of `xoa render` and `XOA_PLATFORM` of the units.";
    };
    rendered = mkOption {
      type = types.package;
      readOnly = true;
      internal = true;
      description = "`xoa render all` of the spec with the NixOS platform: units, tmpfiles.d, /etc files, sudo shim.";
    };
  };

  config = lib.mkMerge [
    {
      xoa.xo = {
        inherit platform platformFile rendered;
      };
    }
    (lib.mkIf cfg.enable {
      systemd.packages = [ rendered ];
      systemd.tmpfiles.packages = [ rendered ];
      # The NixOS-only entries: a prebuilt release as `current`, the broker's shims (root's, in the store), and
      # the pin the timer's upgrades rewrite, seeded once (C: copied only when absent).
      systemd.tmpfiles.rules =
        lib.optional (cfg.package != null) "L+ ${cfg.stateDir}/current - - - - ${cfg.package}"
        ++ lib.optionals (cfg.mounts.mode == "broker") (map (s: "L+ ${s} - - - - ${rendered}${s}") shims)
        ++ lib.optional (
          cfg.updates.schedule != null
        ) "C ${cfg.stateDir}/xo-source.json 0644 root root - ${cfg.cliPackage}/lib/xoa/xo-source.json";

      # Owners and modes as `xoa render --json` gives them (test/nix/module.test.ts compares).
      environment.etc = {
        "xo-server/config.toml" = {
          source = "${rendered}/etc/xo-server/config.toml";
          mode = "0640";
          group = cfg.service.group;
        };
        "xoa/xo-server.env" = {
          source = "${rendered}/etc/xoa/xo-server.env";
          mode = "0600";
        };
        "xoa/redis-xo.conf".source = "${rendered}/etc/xoa/redis-xo.conf";
        # So `xoa status`, `xoa doctor` and `xoa logs` on the host read the same spec as the units.
        "xoa/xoa.json".source = cfg.specFile;
      };
      environment.variables.XOA_SPEC = "/etc/xoa/xoa.json";
    })
  ];
}
