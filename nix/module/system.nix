# What NixOS declares natively: accounts, Redis, sshd, firewall, sudo (seed mode only), libvhdi, nginx + ACME.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.xoa.xo;
  redis = config.services.redis.servers.xo;
  sudoMode = cfg.mounts.mode == "sudo";

  # Seed-compatible sudo: the exact store paths of each tool, never a glob (as nixpkgs' btrbk module does).
  # `mount` with free arguments is root for whoever controls xo-server: that is why "broker" is the default.
  sudoCommands = [
    "${pkgs.util-linux}/bin/mount"
    "${pkgs.util-linux}/bin/umount"
    "${pkgs.util-linux}/bin/findmnt"
    "${pkgs.nfs-utils}/bin/mount.nfs"
    "${pkgs.nfs-utils}/bin/mount.nfs4"
    "${pkgs.cifs-utils}/bin/mount.cifs"
    "${cfg.libvhdiPackage}/bin/vhdimount"
    "${cfg.libvhdiPackage}/bin/vhdiinfo"
  ];
in
{
  config = lib.mkIf cfg.enable (
    lib.mkMerge [
      {
        # service.gid / service.uid: the ids xoa apply and `xoa up` use too (null: NixOS picks them).
        users.groups.${cfg.service.group} = { gid = cfg.service.gid; };
        users.users.${cfg.service.user} = {
          uid = cfg.service.uid;
          isSystemUser = true;
          group = cfg.service.group;
          description = "Xen Orchestra service account";
          home = cfg.stateDir;
          createHome = false;
          shell = "${pkgs.shadow}/bin/nologin";
          # The Redis socket is 0660 for its group: the server joins it (also via SupplementaryGroups).
          extraGroups = [ redis.group ];
        };

        services.redis.servers.xo = {
          enable = true;
          port = 0;
          unixSocket = cfg.redis.socket;
          unixSocketPerm = 660;
          appendOnly = true;
          appendFsync = "everysec";
          settings = {
            maxmemory = cfg.redis.maxmemory;
            # Redis is XO's primary database (users, servers, jobs): it must never evict.
            maxmemory-policy = "noeviction";
          };
        };

        # libvhdi system-wide, as the seed has it; FUSE for vhdimount.
        environment.systemPackages = [
          cfg.cliPackage
          cfg.libvhdiPackage
        ];
        boot.kernelModules = [ "fuse" ];

        systemd.tmpfiles.rules = [
          # Root's, as `xoa apply` makes it: the broker refuses mounts below a directory the service could rename.
          "d ${cfg.stateDir} 0750 root ${cfg.service.group} - -"
          "d ${cfg.dataDir} 0750 ${cfg.service.user} ${cfg.service.group} - -"
          "d ${cfg.tempDir} 0750 ${cfg.service.user} ${cfg.service.group} - -"
          # Sticky and root's: the service makes its mount points, the broker swaps them for root-owned ones.
          "d ${cfg.mountsDir} 1770 root ${cfg.service.group} - -"
        ]
        ++ lib.optional (cfg.package != null) "L+ ${cfg.stateDir}/current - - - - ${cfg.package}";

        networking.firewall.allowedTCPPorts = lib.mkIf cfg.firewall.enable cfg.firewall.ports;
      }

      # Guarded so a clash with the service account reaches the assertion that names the option.
      (lib.mkIf (cfg.admin.enable && cfg.admin.user != cfg.service.user) {
        users.users.${cfg.admin.user} = {
          isNormalUser = true;
          description = "Xen Orchestra SSH admin";
          extraGroups = [
            "wheel"
            "systemd-journal"
          ];
          openssh.authorizedKeys.keys = cfg.admin.authorizedKeys;
          # SSH keys only: no password can ever be used to log in.
          hashedPassword = "!";
        };
        # The admin has no password, so sudo cannot ask for one; the admin is the machine's administrator.
        security.sudo.extraRules = [
          {
            users = [ cfg.admin.user ];
            commands = [
              {
                command = "ALL";
                options = [ "NOPASSWD" ];
              }
            ];
          }
        ];
      })

      (lib.mkIf (cfg.admin.enable && cfg.admin.sshd) {
        services.openssh = {
          enable = true;
          settings = {
            PasswordAuthentication = false;
            KbdInteractiveAuthentication = false;
            PermitRootLogin = "no";
            AllowUsers = lib.mkDefault [ cfg.admin.user ];
            X11Forwarding = false;
          };
        };
      })

      (lib.mkIf sudoMode {
        security.sudo.enable = true;
        security.sudo.extraRules = [
          {
            users = [ cfg.service.user ];
            commands = map (command: {
              inherit command;
              options = [ "NOPASSWD" ];
            }) sudoCommands;
          }
        ];
        # sudo's env_reset would drop the SMB credentials xo-server hands to mount.cifs.
        security.sudo.extraConfig = ''
          Defaults:${cfg.service.user} env_keep += "USER PASSWD"
        '';
      })

      (lib.mkIf cfg.reverseProxy.enable {
        # XO sits behind nginx: trust X-Forwarded-* for client addresses and the scheme.
        xoa.xo.settings.http.useForwardedHeaders = lib.mkDefault true;

        services.nginx = {
          enable = true;
          recommendedProxySettings = true;
          recommendedTlsSettings = true;
          virtualHosts.${cfg.reverseProxy.domain} = {
            enableACME = true;
            forceSSL = true;
            locations."/" = {
              proxyPass =
                if cfg.ssl.enable then
                  "https://127.0.0.1:${toString cfg.httpsPort}"
                else
                  "http://127.0.0.1:${toString cfg.port}";
              proxyWebsockets = true;
            };
          };
        };
        security.acme = {
          acceptTerms = true;
          defaults.email = cfg.reverseProxy.acmeEmail;
        };
        networking.firewall.allowedTCPPorts = [
          80
          443
        ];
      })
    ]
  );
}
