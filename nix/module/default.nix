# The xoa NixOS module: options `xoa.xo.*` (the seed's names, plus every other spec section under the same tree)
# and the assertions. The render derivation and what it installs (units, directories, /etc files) live in
# ./rendered.nix, NixOS's additions to the rendered units in ./units.nix, accounts, sshd, sudo… in ./system.nix.
#
# Mapping to the spec (src/spec/schema.ts): `xoa.xo.<field>` is spec `xo.<field>`; `xoa.xo.<section>.*` is spec
# `<section>.*` for source, build, service, admin, webAdmin, redis, firewall, mounts, updates. Nix-only options:
# enable, package, cliPackage, libvhdiPackage, reverseProxy.*.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  inherit (lib) mkOption mkEnableOption types;
  gen = import ../lib/spec-options.nix { inherit lib; };
  schemaOptions = gen.optionsOf [ ] gen.schema;
  sections = lib.removeAttrs gen.schema.properties [ "xo" ];
  cfg = config.xoa.xo;
  tomlFormat = pkgs.formats.toml { };
  isAbs = p: lib.hasPrefix "/" p;
  # `{ file = "/run/secrets/x"; }` in place of a value (src/spec/secret-file.ts): read by root at run time.
  secretRefs =
    v:
    if lib.isAttrs v && lib.attrNames v == [ "file" ] && lib.isString v.file then
      [ v.file ]
    else if lib.isAttrs v then
      lib.concatMap secretRefs (lib.attrValues v)
    else if lib.isList v then
      lib.concatMap secretRefs v
    else
      [ ];
  badSecretRefs = lib.filter (f: !isAbs f || lib.hasPrefix builtins.storeDir f) (
    secretRefs cfg.extraServerEnv ++ secretRefs cfg.settings
  );
in
{
  imports = [
    ./rendered.nix
    ./system.nix
    ./units.nix
  ];

  options.xoa.xo =
    schemaOptions.xo
    // lib.removeAttrs schemaOptions [ "xo" ]
    // {
      enable = mkEnableOption "Xen Orchestra Community Edition, built from the pinned source and run rootless";

      # RFC 42: free-form xo-server settings, merged last into /etc/xo-server/config.toml by `xoa render`.
      settings = mkOption {
        type = tomlFormat.type;
        default = { };
        example = lib.literalExpression ''{ authentication.defaultTokenValidity = "30 days"; }'';
        description = gen.schema.properties.xo.properties.settings.description;
      };

      # The seed opens its ports by default on NixOS; on Debian the spec keeps the firewall opt-in.
      firewall = schemaOptions.firewall // {
        enable = mkOption {
          type = types.bool;
          default = true;
          description = "Open `xoa.xo.firewall.ports` in `networking.firewall` (on by default on NixOS, as in the seed).";
        };
      };

      package = mkOption {
        type = types.nullOr types.package;
        default = null;
        description = ''
          A prebuilt Xen Orchestra release instead of building from source in `xo-build.service`.
          Its layout is that of a release directory: `xo/` (the built monorepo, with `node_modules`) and
          `node/bin/node`. When set, `<stateDir>/current` points at it and `xo-build` is not installed.
        '';
      };

      cliPackage = mkOption {
        type = types.package;
        default = pkgs.callPackage ../packages/xoa.nix { };
        defaultText = lib.literalExpression "pkgs.callPackage ./nix/packages/xoa.nix { }";
        description = "The `xoa` CLI the units call for render, build, cert, bootstrap and the mount broker.";
      };

      libvhdiPackage = mkOption {
        type = types.package;
        default = pkgs.callPackage ../packages/libvhdi.nix { };
        defaultText = lib.literalExpression "pkgs.callPackage ./nix/packages/libvhdi.nix { }";
        description = "libvhdi (vhdimount, vhdiinfo), installed system-wide as in the seed.";
      };

      reverseProxy = {
        enable = mkEnableOption "nginx in front of XO with a Let's Encrypt certificate (ACME)";
        domain = mkOption {
          type = types.nullOr types.str;
          default = null;
          example = "xo.example.com";
          description = "Public DNS name nginx serves and requests the certificate for.";
        };
        acmeEmail = mkOption {
          type = types.nullOr types.str;
          default = null;
          example = "admin@example.com";
          description = "Contact address for the ACME account (Let's Encrypt).";
        };
      };

      spec = mkOption {
        type = types.attrsOf types.anything;
        readOnly = true;
        internal = true;
        description = "The spec these options describe, as the CLI reads it (written to `specFile`).";
      };

      specFile = mkOption {
        type = types.path;
        readOnly = true;
        internal = true;
        description = "The spec as JSON in the Nix store, passed to every `xoa` call with `--spec`.";
      };
    };

  config = lib.mkMerge [
    {
      xoa.xo.spec = {
        xo = gen.valuesOf gen.schema.properties.xo cfg;
      }
      // lib.mapAttrs (name: s: gen.valuesOf s cfg.${name}) sections;
      xoa.xo.specFile = pkgs.writeText "xoa-spec.json" (builtins.toJSON cfg.spec);
    }

    (lib.mkIf cfg.enable {
      assertions = [
        {
          assertion = cfg.ssl.enable -> cfg.port != cfg.httpsPort;
          message = "xoa.xo.httpsPort must differ from xoa.xo.port (${toString cfg.port}) when xoa.xo.ssl.enable is true.";
        }
        {
          assertion = cfg.service.user != "root" && cfg.service.group != "root";
          message = "xoa.xo.service.user and xoa.xo.service.group must not be root: xo-server runs rootless.";
        }
        {
          assertion = cfg.admin.enable -> cfg.admin.user != cfg.service.user;
          message = "xoa.xo.admin.user must differ from xoa.xo.service.user (${cfg.service.user}).";
        }
        {
          assertion =
            cfg.webAdmin.passwordFile != null
            -> isAbs cfg.webAdmin.passwordFile && !lib.hasPrefix builtins.storeDir cfg.webAdmin.passwordFile;
          message = "xoa.xo.webAdmin.passwordFile must be an absolute path outside ${builtins.storeDir} (the store is world-readable); point it at a 0600 file, e.g. from agenix or sops-nix.";
        }
        {
          assertion = badSecretRefs == [ ];
          message = "xoa.xo.extraServerEnv and xoa.xo.settings: { file = ...; } must name an absolute path outside ${builtins.storeDir} (the store is world-readable), not ${lib.concatStringsSep ", " badSecretRefs}; point it at a root-owned 0600 file, e.g. from agenix or sops-nix.";
        }
        {
          assertion = cfg.reverseProxy.enable -> cfg.reverseProxy.domain != null;
          message = "xoa.xo.reverseProxy.domain must be set when xoa.xo.reverseProxy.enable is true.";
        }
        {
          assertion = cfg.reverseProxy.enable -> cfg.reverseProxy.acmeEmail != null;
          message = "xoa.xo.reverseProxy.acmeEmail must be set when xoa.xo.reverseProxy.enable is true (Let's Encrypt needs a contact).";
        }
        {
          assertion =
            cfg.reverseProxy.enable
            -> !(lib.elem cfg.port [ 80 443 ]) && (cfg.ssl.enable -> !(lib.elem cfg.httpsPort [ 80 443 ]));
          message = "xoa.xo.port and xoa.xo.httpsPort must not be 80 or 443 when xoa.xo.reverseProxy.enable is true: nginx listens there (e.g. xoa.xo.port = 8080; xoa.xo.ssl.enable = false; xoa.xo.host = \"127.0.0.1\").";
        }
      ];

      warnings = lib.optional (cfg.admin.enable && cfg.admin.authorizedKeys == [ ]) (
        "xoa.xo.admin.authorizedKeys is empty: the SSH-only admin account ${cfg.admin.user} cannot log in. "
        + "Run `xoa init` or add your public key."
      );
    })
  ];
}
