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

  # One sandbox for every unit; each relaxation below says why.
  hardening = {
    NoNewPrivileges = true;
    CapabilityBoundingSet = "";
    AmbientCapabilities = "";
    PrivateTmp = true;
    PrivateDevices = true;
    ProtectSystem = "strict";
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
    RemoveIPC = true;
    # Node resolves interface addresses through netlink.
    RestrictAddressFamilies = [
      "AF_UNIX"
      "AF_INET"
      "AF_INET6"
      "AF_NETLINK"
    ];
    SystemCallArchitectures = "native";
    SystemCallFilter = [
      "@system-service"
      "~@privileged"
    ];
    UMask = "0027";
  };

  # Seed-compatible sudo mode: sudo is setuid and mount needs CAP_SYS_ADMIN in the host's mount namespace,
  # so none of the sandbox that stops privilege gain or hides mounts can stay. The broker mode avoids this.
  serverSandbox =
    if sudoMode then
      lib.removeAttrs hardening [
        "CapabilityBoundingSet"
        "SystemCallFilter"
        "PrivateDevices"
        "PrivateTmp"
        "ProtectHome"
        "RestrictNamespaces"
      ]
      // {
        NoNewPrivileges = false;
        RestrictSUIDSGID = false;
        ProtectSystem = "full";
      }
    else
      hardening;

  # Binding a port below 1024 is the one capability xo-server keeps, and only when it listens there.
  serverCaps =
    lib.optionalAttrs (lowPorts != [ ]) { AmbientCapabilities = [ "CAP_NET_BIND_SERVICE" ]; }
    // lib.optionalAttrs (lowPorts != [ ] && !sudoMode) { CapabilityBoundingSet = [ "CAP_NET_BIND_SERVICE" ]; };

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
    ];

    # Builds the pinned source into <stateDir>/releases; the build key makes an unchanged pin a no-op, so this
    # costs nothing at boot. Not installed when xoa.xo.package supplies a prebuilt XO.
    systemd.services.xo-build = lib.mkIf (cfg.package == null) {
      description = "Build Xen Orchestra from the pinned source (no-op when the build key is unchanged)";
      wantedBy = [ "multi-user.target" ];
      before = [ "xo-server.service" ];
      wants = [ "network-online.target" ];
      after = [ "network-online.target" ];
      path = with pkgs; [
        git
        nodejs_22
        python3
        gnumake
        gcc
      ];
      environment = {
        HOME = "${cfg.stateDir}/home";
        # Prebuilt Node binaries from the registry do not run on NixOS: build with the one from nixpkgs.
        XOA_NODE = "${pkgs.nodejs_22}/bin/node";
      };
      serviceConfig = hardening // {
        Type = "oneshot";
        RemainAfterExit = true;
        ExecStart = "${xoa} build ${spec}";
        User = cfg.service.user;
        Group = cfg.service.group;
        ReadWritePaths = [ cfg.stateDir ];
        TimeoutStartSec = "2h";
        # The build runs node-gyp and V8's JIT like any Node program.
        MemoryDenyWriteExecute = false;
      };
    };

    # Certificate and the declared web admin, before xo-server first listens: admin@admin.net never exists.
    systemd.services.xo-bootstrap = {
      description = "Xen Orchestra bootstrap: certificate and declared admin";
      wantedBy = [ "multi-user.target" ];
      before = [ "xo-server.service" ];
      after = [
        "redis-xo.service"
        "xo-build.service"
        "systemd-tmpfiles-setup.service"
      ];
      requires = [ "redis-xo.service" ];
      path = [ pkgs.openssl ];
      environment.HOME = "${cfg.stateDir}/home";
      serviceConfig = hardening // asService // {
        Type = "oneshot";
        RemainAfterExit = true;
        ExecStart = [
          "${xoa} cert ${spec}"
          "${xoa} bootstrap ${spec}"
        ];
        ReadWritePaths = [
          cfg.ssl.dir
          cfg.stateDir
          cfg.dataDir
        ];
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
      environment = cfg.extraServerEnv // {
        NODE_ENV = "production";
        HOME = "${cfg.stateDir}/home";
        XDG_CONFIG_HOME = "${cfg.stateDir}/home/.config";
      };
      serviceConfig =
        serverSandbox
        // asService
        // {
          ExecStart = "${current}/node/bin/node ${serverDir}/dist/cli.mjs";
          WorkingDirectory = serverDir;
          Restart = "on-failure";
          RestartSec = "5s";
          ReadWritePaths = [
            cfg.dataDir
            cfg.tempDir
            cfg.mountsDir
            "${cfg.stateDir}/home"
          ];
          ReadOnlyPaths = [ cfg.ssl.dir ];
          # V8's JIT needs writable and executable pages.
          MemoryDenyWriteExecute = false;
        }
        // serverCaps;
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

    systemd.services.xoa-upgrade = lib.mkIf (cfg.updates.schedule != null) {
      description = "Scheduled Xen Orchestra upgrade (backup, build, health-gated switch)";
      wants = [ "network-online.target" ];
      after = [ "network-online.target" ];
      serviceConfig = {
        Type = "oneshot";
        ExecStart = "${xoa} upgrade ${spec}";
      };
    };
    systemd.timers.xoa-upgrade = lib.mkIf (cfg.updates.schedule != null) {
      wantedBy = [ "timers.target" ];
      timerConfig = {
        OnCalendar = cfg.updates.schedule;
        Persistent = true;
      };
    };
  };
}
