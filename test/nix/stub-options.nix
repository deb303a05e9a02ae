# Declarations of every NixOS option the xoa module sets, so the module can be evaluated with nixpkgs' lib alone
# (lib.evalModules) where no full nixpkgs is available. Each declares the type and default nixpkgs declares, in
# the file named beside it (paths in NixOS/nixpkgs), so a definition NixOS would reject (a wrong name, a
# wrong type, a socket given an environment) fails here too. Sub-options the module never sets are left out;
# free-form (freeformType) only where nixpkgs itself is free-form (services.openssh.settings) or where the
# module only sets values the test reads back as they are (nginx, ACME).
{ lib, pkgs, ... }:
let
  inherit (lib) mkOption types;
  opt = type: default: mkOption { inherit type default; };
  free = types.attrsOf types.anything;

  # nixos/lib/systemd-unit-options.nix `unitOption`: a list definition concatenates (repeatable directive),
  # anything else must be defined once.
  unitOption = lib.mkOptionType {
    name = "systemd option";
    merge =
      loc: defs:
      let
        defs' = lib.filterOverrides defs;
      in
      if lib.isList (lib.head defs').value then
        lib.concatMap (d: if lib.isList d.value then d.value else throw "mixed list/non-list ${lib.showOption loc}") defs'
      else
        lib.mergeEqualOption loc defs';
  };
  unitNames = types.listOf types.str;

  # nixos/lib/systemd-unit-options.nix: sharedOptions, commonUnitOptions, stage2CommonUnitOptions.
  commonUnit = {
    options = {
      enable = opt types.bool true;
      wantedBy = opt unitNames [ ];
      requiredBy = opt unitNames [ ];
      aliases = opt unitNames [ ];
      overrideStrategy = opt (types.enum [
        "asDropinIfExists"
        "asDropin"
      ]) "asDropinIfExists";
      description = opt types.singleLineStr "";
      documentation = opt (types.listOf types.str) [ ];
      requires = opt unitNames [ ];
      wants = opt unitNames [ ];
      after = opt unitNames [ ];
      before = opt unitNames [ ];
      bindsTo = opt unitNames [ ];
      partOf = opt unitNames [ ];
      conflicts = opt unitNames [ ];
      requisite = opt unitNames [ ];
      onFailure = opt unitNames [ ];
      unitConfig = opt (types.attrsOf unitOption) { };
      restartTriggers = opt (types.listOf types.unspecified) [ ];
      reloadTriggers = opt (types.listOf unitOption) [ ];
    };
  };

  # nixos/lib/systemd-unit-options.nix: serviceOptions, stage2ServiceOptions; nixos/lib/systemd-lib.nix:
  # serviceConfig (PATH from `path`); nixos/modules/system/boot/systemd.nix: stage2ServiceConfig (the default
  # path every service gets, so every service definition has a PATH unless the module clears it).
  service =
    { config, ... }:
    {
      imports = [ commonUnit ];
      options = {
        environment = opt (
          with types;
          attrsOf (
            nullOr (oneOf [
              str
              path
              package
            ])
          )
        ) { };
        path = opt (
          with types;
          listOf (oneOf [
            package
            str
          ])
        ) [ ];
        serviceConfig = opt (types.attrsOf unitOption) { };
        script = opt types.lines "";
        preStart = opt types.lines "";
        restartIfChanged = opt types.bool true;
        reloadIfChanged = opt types.bool false;
        stopIfChanged = opt types.bool true;
        startAt = opt (with types; either str (listOf str)) [ ];
      };
      config = {
        path = lib.mkAfter [
          pkgs.coreutils
          pkgs.findutils
          pkgs.gnugrep
          pkgs.gnused
          pkgs.systemd
        ];
        environment.PATH = lib.mkIf (config.path != [ ]) (
          "${lib.makeBinPath config.path}:${lib.makeSearchPathOutput "bin" "sbin" config.path}"
        );
      };
    };
  socket = {
    imports = [ commonUnit ];
    options.listenStreams = opt (types.listOf types.str) [ ];
    options.socketConfig = opt (types.attrsOf unitOption) { };
  };
  timer = {
    imports = [ commonUnit ];
    options.timerConfig = opt (types.attrsOf unitOption) { };
  };

  # nixos/modules/config/users-groups.nix: userOpts, groupOpts.
  user = {
    options = {
      isSystemUser = opt types.bool false;
      isNormalUser = opt types.bool false;
      uid = opt (types.nullOr types.int) null;
      group = opt types.str "";
      extraGroups = opt (types.listOf types.str) [ ];
      description = opt types.str "";
      home = opt types.path "/var/empty";
      createHome = opt types.bool false;
      shell = opt (types.nullOr (types.either types.package types.path)) pkgs.shadow;
      hashedPassword = opt (types.nullOr types.str) null;
      openssh.authorizedKeys.keys = opt (types.listOf types.str) [ ];
    };
  };
  group = {
    options.gid = opt (types.nullOr types.int) null;
    options.members = opt (types.listOf types.str) [ ];
  };

  # nixos/modules/system/etc/etc.nix
  etc =
    { name, ... }:
    {
      options = {
        enable = opt types.bool true;
        target = opt types.str name;
        text = opt (types.nullOr types.lines) null;
        source = mkOption { type = types.path; };
        mode = opt types.str "symlink";
        user = opt types.str "+0";
        group = opt types.str "+0";
      };
    };

  # nixos/modules/security/sudo.nix: extraRules' submodule.
  sudoRule = {
    options = {
      users = opt (types.listOf (types.either types.str types.int)) [ ];
      groups = opt (types.listOf (types.either types.str types.int)) [ ];
      host = opt types.str "ALL";
      runAs = opt types.str "ALL:ALL";
      commands = opt (types.listOf (
        types.either types.str (
          types.submodule {
            options.command = mkOption { type = types.str; };
            options.options = opt (types.listOf (
              types.enum [
                "NOPASSWD"
                "PASSWD"
                "NOEXEC"
                "EXEC"
                "SETENV"
                "NOSETENV"
                "LOG_INPUT"
                "NOLOG_INPUT"
                "LOG_OUTPUT"
                "NOLOG_OUTPUT"
                "MAIL"
                "NOMAIL"
                "FOLLOW"
                "NOFOLLOW"
                "INTERCEPT"
                "NOINTERCEPT"
              ]
            )) [ ];
          }
        )
      )) [ ];
    };
  };
in
{
  options = {
    # nixos/modules/misc/assertions.nix
    assertions = opt (types.listOf types.unspecified) [ ];
    warnings = opt (types.listOf types.str) [ ];
    # nixos/modules/system/boot/kernel.nix
    boot.kernelModules = opt (types.listOf types.str) [ ];
    # nixos/modules/config/users-groups.nix
    users.users = opt (types.attrsOf (types.submodule user)) { };
    users.groups = opt (types.attrsOf (types.submodule group)) { };
    # nixos/modules/services/networking/ssh/sshd.nix (settings is free-form there, with typed known keys)
    services.openssh = {
      enable = opt types.bool false;
      settings = opt (types.submodule {
        freeformType = free;
        options = {
          PasswordAuthentication = opt types.bool true;
          KbdInteractiveAuthentication = opt types.bool true;
          PermitRootLogin = opt (types.enum [
            "yes"
            "without-password"
            "prohibit-password"
            "forced-commands-only"
            "no"
          ]) "prohibit-password";
          X11Forwarding = opt types.bool false;
          AllowUsers = opt (types.nullOr (types.listOf types.str)) null;
        };
      }) { };
    };
    # nixos/modules/services/web-servers/nginx/default.nix
    services.nginx = {
      enable = opt types.bool false;
      recommendedProxySettings = opt types.bool false;
      recommendedTlsSettings = opt types.bool false;
      virtualHosts = opt (types.attrsOf free) { };
    };
    # nixos/modules/security/acme/default.nix
    security.acme = {
      acceptTerms = opt types.bool false;
      defaults = opt free { };
    };
    # nixos/modules/security/sudo.nix (sudo is on by default in NixOS)
    security.sudo = {
      enable = opt types.bool true;
      extraRules = opt (types.listOf (types.submodule sudoRule)) [ ];
      extraConfig = opt types.lines "";
    };
    # nixos/modules/services/networking/firewall.nix (apply: canonicalizePortList, sorted and unique)
    networking.firewall.allowedTCPPorts = mkOption {
      type = types.listOf types.port;
      default = [ ];
      apply = ports: lib.unique (builtins.sort builtins.lessThan ports);
    };
    # nixos/modules/config/system-path.nix
    environment.systemPackages = opt (types.listOf types.package) [ ];
    # nixos/modules/system/etc/etc.nix
    environment.etc = opt (types.attrsOf (types.submodule etc)) { };
    # nixos/modules/config/shells-environment.nix
    environment.variables = opt (
      with types;
      attrsOf (oneOf [
        (listOf (oneOf [
          int
          str
          path
        ]))
        int
        str
        path
      ])
    ) { };
    # nixos/modules/system/boot/systemd.nix
    systemd.package = opt types.package pkgs.systemd;
    systemd.packages = opt (types.listOf types.package) [ ];
    systemd.services = opt (types.attrsOf (types.submodule service)) { };
    systemd.sockets = opt (types.attrsOf (types.submodule socket)) { };
    systemd.timers = opt (types.attrsOf (types.submodule timer)) { };
    # nixos/modules/system/boot/systemd/tmpfiles.nix
    systemd.tmpfiles.rules = opt (types.listOf types.str) [ ];
    systemd.tmpfiles.packages = opt (types.listOf types.package) [ ];
  };
}
