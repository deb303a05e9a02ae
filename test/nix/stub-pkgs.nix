# A stand-in for nixpkgs' `pkgs`: every package is a fake derivation whose store path names it, so the test can
# assert which exact paths the module puts into sudo rules, units and PATH.
{ lib }:
let
  drv = name: {
    type = "derivation";
    inherit name;
    outPath = "${builtins.storeDir}/00000000000000000000000000000000-${name}";
  };
  names = [
    "util-linux"
    "nfs-utils"
    "cifs-utils"
    "lvm2"
    "openssl"
    "git"
    "nodejs_22"
    "python3"
    "gnumake"
    "gcc"
    "shadow"
  ];
in
lib.genAttrs names drv
// {
  callPackage = path: _: drv (lib.removeSuffix ".nix" (baseNameOf path));
  runCommand = name: _: _: drv name;
  writeText = name: text: drv name // { inherit text; };
  formats.toml = _: { type = lib.types.attrsOf lib.types.anything; };
}
