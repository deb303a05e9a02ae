# The units. What the CLI owns (config.toml, build, certificate, admin, mount broker) is done by calling the
# packaged `xoa` with the spec JSON; the units themselves, and their sandboxing, are declared here.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.xoa.xo;
  xoa = "${cfg.cliPackage}/bin/xoa";
  spec = "--spec ${cfg.specFile}";
  redisGroup = config.services.redis.servers.xo.group;
  brokerMode = cfg.mounts.mode == "broker";
  sudoMode = cfg.mounts.mode == "sudo";
  current = "${cfg.stateDir}/current";
  serverDir = "${current}/xo/packages/xo-server";
  lowPorts = lib.filter (p: p < 1024) ([ cfg.port ] ++ lib.optional cfg.ssl.enable cfg.httpsPort);

  # Rendered by the same code as on Debian, so both front-ends produce byte-identical files.
  configToml = pkgs.runCommand "xo-server-config" { } ''
    ${xoa} render config.toml ${spec} --out $out
  '';

  # The sandbox of every unit, as src/render/hardening.ts writes it for Debian (test/nix/module.test.ts compares
  # xo-server's with the rendered unit). `root` keeps root's capabilities for the bootstrap, which creates files
  # for other accounts; `caps` are the only capabilities granted otherwise.
  hardening =
    {
      readWritePaths,
      caps ? [ ],
      root ? false,
      protectSystem ? "strict",
    }:
    {
      NoNewPrivileges = true;
      ProtectSystem = protectSystem;
      PrivateTmp = true;
      PrivateDevices = true;
      ProtectHome = true;
      ProtectKernelTunables = true;
      ProtectKernelModules = true;
      ProtectKernelLogs = true;
      ProtectControlGroups = true;
      ProtectClock = true;
      ProtectHostname = true;
      ProtectProc = "invisible";
      RestrictNamespaces = true;
      RestrictRealtime = true;
      RestrictSUIDSGID = true;
      LockPersonality = true;
      SystemCallArchitectures = "native";
      SystemCallFilter = [ "@system-service" ] ++ lib.optional (!root) "~@privileged @resources";
      # A refused system call fails with EPERM instead of killing the process.
      SystemCallErrorNumber = "EPERM";
      # AF_NETLINK: Node's os.networkInterfaces() (getifaddrs) needs it.
      RestrictAddressFamilies = "AF_UNIX AF_INET AF_INET6 AF_NETLINK";
      # MemoryDenyWriteExecute stays unset: V8's JIT needs writable+executable memory.
      UMask = "0027";
    }
    // lib.optionalAttrs (readWritePaths != [ ]) { ReadWritePaths = readWritePaths; }
    // lib.optionalAttrs (!root) {
      RemoveIPC = true;
      CapabilityBoundingSet = lib.concatStringsSep " " caps;
      AmbientCapabilities = lib.concatStringsSep " " caps;
    };

  serverConfigHome = "${cfg.stateDir}/home/.config";
  logs = "${cfg.stateDir}/logs";

  # Seed-compatible sudo mode: xo-server runs the setuid sudo, which needs privileges to gain (full bounding set,
  # NoNewPrivileges off), the mount system calls and /dev/fuse for vhdimount. This is what the broker avoids.
  serverSandbox =
    let
      h = hardening {
        readWritePaths = [
          cfg.dataDir
          cfg.tempDir
          cfg.mountsDir
          serverConfigHome
          logs
        ];
        # Binding a port below 1024 is the one capability xo-server keeps, and only when it listens there.
        caps = lib.optional (lowPorts != [ ]) "CAP_NET_BIND_SERVICE";
      };
    in
    if sudoMode then
      # AmbientCapabilities stays as hardened: xo-server still needs the bind capability for 80/443.
      lib.removeAttrs h [
        "CapabilityBoundingSet"
        "PrivateDevices"
      ]
      // {
        NoNewPrivileges = false;
        SystemCallFilter = [
          "@system-service"
          "@mount"
        ];
        PrivateDevices = false;
        DevicePolicy = "closed";
        DeviceAllow = "/dev/fuse rw";
      }
    else
      h;

  # What a build needs, for xo-build and for the scheduled upgrade (which builds too).
  buildPath = with pkgs; [
    git
    nodejs_22
    python3
    gnumake
    gcc
  ];
  buildEnvironment = {
    HOME = "${cfg.stateDir}/home";
    # Prebuilt Node binaries from the registry do not run on NixOS: build with the one from nixpkgs.
    XOA_NODE = "${pkgs.nodejs_22}/bin/node";
    # The unit has a mount namespace of its own: xoa mounts the release store nosuid in it for the build.
    XOA_PRIVATE_MOUNTS = "1";
  };
  scheduled = cfg.updates.schedule != null;
  # xo-build and the scheduled upgrade both build. Root for git, the release store and its symlinks; xoa
  # runs yarn (the install scripts of ~2700 npm packages) as the service account, never as root, then hands
  # the release to root, read-only.
  asBuilder = {
    wants = [ "network-online.target" ];
    after = [ "network-online.target" ];
    path = buildPath;
    environment = buildEnvironment;
  };
  # As src/render/xoa-units.ts: no RestrictSUIDSGID, since npm tarballs XO depends on
  # (fuse-shared-library-linux) chmod a script to 6775 during yarn install. The bits are void here
  # (NoNewPrivileges, the release store mounted nosuid, hence @mount) and xoa strips every one when it seals
  # the release.
  builderSandbox =
    hardening {
      readWritePaths = [ cfg.stateDir ];
      root = true;
    }
    // {
      RestrictSUIDSGID = false;
      SystemCallFilter = [
        "@system-service"
        "@mount"
      ];
    };

  asService = {
    User = cfg.service.user;
    Group = cfg.service.group;
    SupplementaryGroups = [ redisGroup ];
  };
in
{
  config = lib.mkIf cfg.enable {
    environment.etc."xo-server/config.toml".source = "${configToml}/etc/xo-server/config.toml";
    # So `xoa status`, `xoa doctor` and `xoa logs` on the host read the same spec as the units.
    environment.etc."xoa/xoa.json".source = cfg.specFile;
    environment.variables.XOA_SPEC = "/etc/xoa/xoa.json";

    systemd.tmpfiles.rules = [
      "d ${cfg.ssl.dir} 0755 ${cfg.service.user} ${cfg.service.group} - -"
      "d ${cfg.stateDir}/secrets 0700 ${cfg.service.user} ${cfg.service.group} - -"
      "d ${cfg.stateDir}/home 0700 ${cfg.service.user} ${cfg.service.group} - -"
      "d ${serverConfigHome} 0700 ${cfg.service.user} ${cfg.service.group} - -"
      "d ${logs} 0750 ${cfg.service.user} ${cfg.service.group} - -"
    ]
    # C: copied only when absent, so the upgrades the timer made survive a rebuild.
    ++ lib.optional scheduled "C ${cfg.stateDir}/xo-source.json 0644 root root - ${cfg.cliPackage}/lib/xoa/xo-source.json";

    # Builds the pinned source into <stateDir>/releases; the build key makes an unchanged pin a no-op, so this
    # costs nothing at boot. Not installed when xoa.xo.package supplies a prebuilt XO.
    systemd.services.xo-build = lib.mkIf (cfg.package == null) (
      asBuilder
      // {
        description = "Build Xen Orchestra from the pinned source (no-op when the build key is unchanged)";
        wantedBy = [ "multi-user.target" ];
        before = [ "xo-server.service" ];
        serviceConfig = builderSandbox // {
          Type = "oneshot";
          RemainAfterExit = true;
          ExecStart = "${xoa} build ${spec}";
          TimeoutStartSec = "2h";
        };
      }
    );

    # Certificate and the declared web admin, before xo-server first listens: admin@admin.net never exists.
    # `xoa bootstrap` ensures the certificate (what `xoa cert` does) and runs upstream's recover-account-cli as
    # the service account. Root, as on Debian: it creates the key and directories for the service account.
    systemd.services.xo-bootstrap = {
      description = "Xen Orchestra bootstrap: directories, certificate, declared admin";
      wantedBy = [ "multi-user.target" ];
      before = [ "xo-server.service" ];
      wants = lib.optional (cfg.package == null) "xo-build.service";
      after = [
        "redis-xo.service"
        "xo-build.service"
        "systemd-tmpfiles-setup.service"
      ];
      requires = [ "redis-xo.service" ];
      path = [ pkgs.openssl ];
      serviceConfig =
        hardening {
          readWritePaths = [ ];
          root = true;
          # It writes the directories and the certificate wherever the spec puts them; /etc/ssl/xo included.
          protectSystem = "true";
        }
        // {
          Type = "oneshot";
          RemainAfterExit = true;
          ExecStart = "${xoa} bootstrap ${spec}";
        };
    };

    systemd.services.xo-server = {
      description = "Xen Orchestra server";
      wantedBy = [ "multi-user.target" ];
      wants = [
        "network-online.target"
        "xo-build.service"
      ];
      requires = [
        "redis-xo.service"
        "xo-bootstrap.service"
      ];
      after = [
        "network-online.target"
        "redis-xo.service"
        "xo-build.service"
        "xo-bootstrap.service"
      ]
      ++ lib.optional brokerMode "xoa-mountd.socket";
      # A new pin or spec rebuilds in xo-build on the same switch; restart into it afterwards.
      restartTriggers = [
        cfg.cliPackage
        cfg.specFile
        configToml
      ];
      # `path` entries gain /bin: <stateDir>/bin is the shim dir holding the `sudo` that talks to the broker,
      # /run/wrappers/bin the real setuid sudo in the seed-compatible mode.
      path =
        lib.optional brokerMode cfg.stateDir
        ++ lib.optional sudoMode "/run/wrappers"
        ++ [
          pkgs.util-linux
          pkgs.nfs-utils
          pkgs.cifs-utils
          pkgs.lvm2
          pkgs.openssl
          cfg.libvhdiPackage
        ];
      # Values here land in the Nix store like every option: put secrets in an EnvironmentFile instead.
      environment = cfg.extraServerEnv // {
        NODE_ENV = "production";
        HOME = "${cfg.stateDir}/home";
        XDG_CONFIG_HOME = serverConfigHome;
        TMPDIR = cfg.tempDir;
      };
      serviceConfig =
        serverSandbox
        // asService
        // {
          Type = "simple";
          ExecStart = "${current}/node/bin/node ${serverDir}/dist/cli.mjs";
          WorkingDirectory = serverDir;
          Restart = "on-failure";
          RestartSec = 5;
          SyslogIdentifier = "xo-server";
        };
    };

    # The least-privilege mount broker: root, socket-activated, reachable only by the service group.
    systemd.sockets.xoa-mountd = lib.mkIf brokerMode {
      description = "xoa mount broker socket";
      wantedBy = [ "sockets.target" ];
      socketConfig = {
        ListenStream = cfg.mounts.brokerSocket;
        SocketUser = "root";
        SocketGroup = cfg.service.group;
        SocketMode = "0660";
        RemoveOnStop = true;
      };
    };
    systemd.services.xoa-mountd = lib.mkIf brokerMode {
      description = "xoa mount broker (policy-checked mount, umount, findmnt, vhdimount for xo-server)";
      requires = [ "xoa-mountd.socket" ];
      path = [
        pkgs.util-linux
        pkgs.nfs-utils
        pkgs.cifs-utils
        cfg.libvhdiPackage
      ];
      serviceConfig = {
        ExecStart = "${xoa} broker serve ${spec}";
        # Mounts must land in the host's mount namespace so xo-server sees them: no private mounts here.
        PrivateNetwork = false;
        NoNewPrivileges = true;
        ProtectHome = true;
        RestrictRealtime = true;
        LockPersonality = true;
      };
    };

    # Scheduled upgrades: the host follows its channel on its own. Its pin then lives in the state dir, seeded
    # once from the flake's pin; without a schedule the flake's pin (nix run .#update-xo) is the only one.
    xoa.xo.source.pinFile = lib.mkIf scheduled (lib.mkDefault "${cfg.stateDir}/xo-source.json");
    systemd.services.xoa-update = lib.mkIf scheduled (
      asBuilder
      // {
        description = "Scheduled Xen Orchestra upgrade (backup, build, health-gated switch)";
        serviceConfig = builderSandbox // {
          Type = "oneshot";
          ExecStart = "${xoa} upgrade ${spec}";
        };
      }
    );
    systemd.timers.xoa-update = lib.mkIf (cfg.updates.schedule != null) {
      wantedBy = [ "timers.target" ];
      timerConfig = {
        OnCalendar = cfg.updates.schedule;
        Persistent = true;
      };
    };
  };
}
