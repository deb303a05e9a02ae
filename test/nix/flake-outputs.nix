# The flake's outputs evaluated with stub inputs (no flake.lock, no GitHub here): `outputs` is called as
# `nix flake check` would, with `nixpkgs` replaced by nixpkgs' lib and test/nix/stub-pkgs.nix, and the shapes
# the flake schema wants are printed as JSON:
#   nix-instantiate --eval --strict --json test/nix/flake-outputs.nix --argstr nixpkgsLib DIR
{ nixpkgsLib }:
let
  lib = import (/. + nixpkgsLib);
  flake = import ../../flake.nix;
  stubPkgs =
    system:
    let
      base = import ./stub-pkgs.nix { inherit lib; };
      drv = name: {
        type = "derivation";
        inherit name;
        outPath = "${builtins.storeDir}/00000000000000000000000000000000-${name}";
        meta.mainProgram = name;
      };
    in
    base
    // {
      inherit system;
      jq = drv "jq";
      nixfmt-tree = drv "nixfmt-tree";
      callPackage = path: _: drv (lib.removeSuffix ".nix" (baseNameOf path));
      writeShellApplication = a: drv a.name;
      testers.runNixOSTest = _: drv "vm-test";
    };
  nixpkgs = {
    lib = lib // {
      # What the flake gives nixosSystem, kept for the test (a real NixOS evaluation needs all of nixpkgs).
      nixosSystem = args: {
        _type = "stub-nixos-system";
        inherit args;
      };
    };
    legacyPackages = lib.genAttrs [ "x86_64-linux" "aarch64-linux" ] stubPkgs;
  };
  self = flake.outputs { inherit self nixpkgs; } // {
    outPath = toString ../..;
  };
  o = flake.outputs { inherit self nixpkgs; };
  isModule = m: builtins.isFunction m || builtins.isAttrs m;
  # The module as the flake exports it, evaluated with the option stubs: it is a NixOS module, not only a path.
  moduleEval = lib.evalModules {
    modules = [
      ./stub-options.nix
      o.nixosModules.default
      {
        _module.args.pkgs = stubPkgs "x86_64-linux";
        xoa.xo.enable = true;
      }
    ];
  };
  attrTypes = lib.mapAttrs (_: v: v.type or (builtins.typeOf v));
in
{
  inputs = builtins.attrNames (builtins.functionArgs flake.outputs);
  outputs = builtins.attrNames o;
  nixosModuleIsModule = isModule o.nixosModules.default;
  nixosModuleIsPath = builtins.isPath o.nixosModules.default;
  moduleUnits = builtins.attrNames moduleEval.config.systemd.services;
  overlay = builtins.isFunction o.overlays.default;
  overlayPackages = builtins.attrNames (o.overlays.default (stubPkgs "x86_64-linux") { });
  packages = lib.mapAttrs (_: attrTypes) o.packages;
  apps = lib.mapAttrs (_: lib.mapAttrs (_: a: { inherit (a) type; program = builtins.isString a.program; })) o.apps;
  checks = lib.mapAttrs (_: attrTypes) o.checks;
  formatter = attrTypes o.formatter;
  nixosConfigurations = lib.mapAttrs (_: c: {
    inherit (c) _type;
    system = c.args.system;
    # Functions never compare equal in Nix: the first module is the exported module function.
    firstModuleIsFunction = builtins.isFunction (builtins.head c.args.modules);
  }) o.nixosConfigurations;
  xoPin = builtins.attrNames o.lib.xoPin;
}
