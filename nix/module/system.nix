# What NixOS declares natively: accounts, sshd, firewall, sudo (seed mode only), libvhdi, nginx + ACME. Units,
# directories and the files under /etc come from the render (./rendered.nix).
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.xoa.xo;
  sudoMode = cfg.mounts.mode == "sudo";
  # The account of the rendered redis-xo.service (src/render/redis.ts, REDIS_ACCOUNT).
  redisAccount = "redis-xo";

  # Seed-compatible sudo: the exact store paths of each tool, never a glob (as nixpkgs' btrbk module does),
  # taken from the same platform the units are rendered with, so the rules allow what xo-server runs.
  # `mount` with free arguments is root for whoever controls xo-server: that is why "broker" is the default.
  sudoCommands = map (t: cfg.platform.tools.${t}) [
    "mount"
    "umount"
    "findmnt"
    "mount.nfs"
    "mount.nfs4"
    "mount.cifs"
    "vhdimount"
    "vhdiinfo"
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
          shell = cfg.platform.tools.nologin;
          # The Redis socket is 0660 for its group: the server joins it (also via SupplementaryGroups).
          extraGroups = [ redisAccount ];
        };
        # The rendered redis-xo.service runs as this account (socket only, AOF, noeviction: src/render/redis.ts).
        users.groups.${redisAccount} = { };
        users.users.${redisAccount} = {
          isSystemUser = true;
          group = redisAccount;
          description = "Redis for Xen Orchestra";
          home = cfg.redis.dir;
          createHome = false;
          shell = cfg.platform.tools.nologin;
        };

        # libvhdi system-wide, as the seed has it; FUSE for vhdimount.
        environment.systemPackages = [
          cfg.cliPackage
          cfg.libvhdiPackage
        ];
        boot.kernelModules = [ "fuse" ];

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
