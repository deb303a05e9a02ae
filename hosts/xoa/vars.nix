# Per-host values, written by `xoa init` (or edit by hand). Everything else is in ./default.nix.
{
  hostname = "xoa";
  timezone = "UTC";
  # Public keys allowed to log in as the SSH-only admin `xoa` (password login is off).
  adminSshKeys = [ ];
  # null: DHCP on every interface. Or a static address:
  # network = { interface = "ens3"; address = "192.0.2.10"; prefixLength = 24; gateway = "192.0.2.1"; dns = [ "192.0.2.1" ]; };
  network = null;
}
