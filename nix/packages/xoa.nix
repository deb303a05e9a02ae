# The xoa CLI: the committed single-file bundle (dist/xoa.mjs, `npm run bundle`, checked fresh by CI) run by
# nixpkgs' Node. Our lockfile carries no download addresses, so Nix does not rebuild node_modules from it.
# The pin (xo-source.json) ships next to the bundle: it is the default source of `xoa build`.
{
  lib,
  stdenvNoCC,
  makeWrapper,
  nodejs,
}:
let
  src = lib.fileset.toSource {
    root = ../..;
    fileset = lib.fileset.unions [
      ../../dist/xoa.mjs
      ../../xo-source.json
      ../../package.json
    ];
  };
  pkg = lib.importJSON ../../package.json;
in
stdenvNoCC.mkDerivation {
  pname = "xoa";
  inherit (pkg) version;
  inherit src;

  nativeBuildInputs = [ makeWrapper ];
  dontConfigure = true;
  dontBuild = true;

  installPhase = ''
    runHook preInstall
    mkdir -p $out/lib/xoa/dist $out/bin
    cp dist/xoa.mjs $out/lib/xoa/dist/xoa.mjs
    cp xo-source.json package.json $out/lib/xoa/
    makeWrapper ${lib.getExe nodejs} $out/bin/xoa --add-flags $out/lib/xoa/dist/xoa.mjs
    runHook postInstall
  '';

  doInstallCheck = true;
  installCheckPhase = ''
    $out/bin/xoa --version
    echo '{}' > spec.json
    $out/bin/xoa validate --spec spec.json > /dev/null
  '';

  passthru.pin = lib.importJSON ../../xo-source.json;

  meta = {
    description = "Declarative Xen Orchestra Community Edition: one spec in, a running, hardened XO out";
    license = lib.licenses.agpl3Only;
    mainProgram = "xoa";
    platforms = lib.platforms.linux;
  };
}
