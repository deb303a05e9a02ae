# A stand-in for nixpkgs' `pkgs`: every package is a fake derivation whose store path names it, so the test can
# assert which exact paths the module puts into sudo rules, units, PATH and the platform. runCommand keeps its
# script, so the test can run the render the derivation would run.
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
    "openssh"
    "git"
    "gnutar"
    "nodejs_22"
    "python3"
    "gnumake"
    "gcc"
    "shadow"
    "sudo"
    "bash"
    "redis"
    "systemd"
    "coreutils"
    "findutils"
    "gnugrep"
    "gnused"
  ];
in
lib.genAttrs names drv
// {
  callPackage = path: _: drv (lib.removeSuffix ".nix" (baseNameOf path));
  runCommand = name: _: script: drv name // { inherit script; };
  writeText = name: text: drv name // { inherit text; };
  formats.toml = _: { type = lib.types.attrsOf lib.types.anything; };
}
