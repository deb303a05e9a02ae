# libvhdi: vhdimount (FUSE) and vhdiinfo for VHD/VHDX images; not in nixpkgs.
#
# The hash is that of Debian's libvhdi_20240509.orig.tar.gz (trixie, source package libvhdi 20240509-2), which
# Debian takes unmodified from the upstream release below; it was obtained with `apt-get source --download-only`
# because GitHub was unreachable where this was written. Re-check it where GitHub is reachable:
#   nix store prefetch-file https://github.com/libyal/libvhdi/releases/download/20240509/libvhdi-alpha-20240509.tar.gz
{
  lib,
  stdenv,
  fetchurl,
  pkg-config,
  fuse3,
  zlib,
}:
stdenv.mkDerivation (finalAttrs: {
  pname = "libvhdi";
  version = "20240509";

  src = fetchurl {
    url = "https://github.com/libyal/libvhdi/releases/download/${finalAttrs.version}/libvhdi-alpha-${finalAttrs.version}.tar.gz";
    hash = "sha256-nv6+VKeubPi0kQOjoMN1U/PyLXUmMDplSutZ7KWMzsc=";
  };

  nativeBuildInputs = [ pkg-config ];
  buildInputs = [
    fuse3
    zlib
  ];

  # configure picks libfuse3 through pkg-config; say so, so a missing FUSE fails the build instead of
  # silently producing a vhdimount that cannot mount.
  configureFlags = [ "--with-libfuse" ];

  enableParallelBuilding = true;
  doCheck = false;

  doInstallCheck = true;
  installCheckPhase = ''
    $out/bin/vhdiinfo -V
    $out/bin/vhdimount -V
  '';

  meta = {
    description = "Library and tools (vhdimount, vhdiinfo) to access the Virtual Hard Disk (VHD, VHDX) format";
    homepage = "https://github.com/libyal/libvhdi";
    license = lib.licenses.lgpl3Plus;
    mainProgram = "vhdimount";
    platforms = lib.platforms.linux;
  };
})
