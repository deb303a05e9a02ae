{
  description = "xoa: declarative Xen Orchestra Community Edition on NixOS (module, packages, example host)";

  # No flake.lock is committed yet: run `nix flake lock` once where GitHub is reachable and commit it.
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";

  outputs =
    { self, nixpkgs }:
    let
      lib = nixpkgs.lib;
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      forAllSystems = f: lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
      # The XO pin is the same file the TypeScript builder reads; `nix run .#update-xo` rewrites it.
      pin = lib.importJSON ./xo-source.json;
    in
    {
      overlays.default = final: _prev: {
        xoa = final.callPackage ./nix/packages/xoa.nix { };
        libvhdi = final.callPackage ./nix/packages/libvhdi.nix { };
      };

      # A module (the function in nix/module/default.nix), not a path: `nix flake check` wants a function or an
      # attribute set here.
      nixosModules.default = import ./nix/module;

      packages = forAllSystems (pkgs: rec {
        xoa = pkgs.callPackage ./nix/packages/xoa.nix { };
        libvhdi = pkgs.callPackage ./nix/packages/libvhdi.nix { };
        default = xoa;
      });

      apps = forAllSystems (
        pkgs:
        let
          xoa = self.packages.${pkgs.system}.xoa;
          updateXo = pkgs.writeShellApplication {
            name = "update-xo";
            runtimeInputs = [
              pkgs.git
              pkgs.jq
            ];
            # Run from the flake's checkout: xoa update rewrites ./xo-source.json and commits it (the seed's
            # `--commit-lock-file`), printing old -> new, the commits and the changelog between them.
            text = ''
              if [ ! -f xo-source.json ]; then
                echo "update-xo: run it from the root of your xoa flake checkout (no xo-source.json here)" >&2
                exit 2
              fi
              spec=$(mktemp --suffix=.json)
              trap 'rm -f "$spec"' EXIT
              jq -n --arg pin "$PWD/xo-source.json" '{source: {pinFile: $pin}}' > "$spec"
              ${lib.getExe xoa} update --spec "$spec" --commit "$@"
            '';
          };
        in
        {
          xoa = {
            type = "app";
            program = lib.getExe xoa;
            meta.description = "The xoa CLI (validate, render, build, status, doctor, ...)";
          };
          update-xo = {
            type = "app";
            program = lib.getExe updateXo;
            meta.description = "Move the flake's Xen Orchestra pin (xo-source.json) to the newest release and commit it";
          };
        }
      );

      nixosConfigurations.xoa = lib.nixosSystem {
        system = "x86_64-linux";
        modules = [
          self.nixosModules.default
          ./hosts/xoa
        ];
      };

      # The VM test needs a prebuilt XO release (the VM has no network to build one): it runs when
      # XOA_VM_RELEASE names one, e.g. XOA_VM_RELEASE=/var/lib/xo/current nix build --impure .#checks.x86_64-linux.vm
      checks = forAllSystems (
        pkgs:
        let
          xoRelease = builtins.getEnv "XOA_VM_RELEASE";
        in
        {
          inherit (self.packages.${pkgs.system}) xoa libvhdi;
        }
        // lib.optionalAttrs (xoRelease != "") {
          vm = pkgs.testers.runNixOSTest (
            import ./nix/tests/vm.nix {
              inherit self;
              xoRelease = builtins.path {
                path = xoRelease;
                name = "xo-release";
              };
            }
          );
        }
      );

      formatter = forAllSystems (pkgs: pkgs.nixfmt-tree);

      lib.xoPin = pin;
    };
}
