// Facts about the NixOS host xoa runs on, and the deploy command `xoa install` wraps.
import { existsSync } from 'node:fs'

/** NixOS marks itself with /etc/NIXOS (XOA_NIXOS_MARKER lets tests point elsewhere). */
export function isNixos(marker = process.env.XOA_NIXOS_MARKER ?? '/etc/NIXOS'): boolean {
  return existsSync(marker)
}

/** The seed's deploy command: nixos-rebuild switch on this flake's host, with logs and traces. */
export function rebuildCommand(flakeDir: string, host: string, action = 'switch'): string[] {
  return ['nixos-rebuild', action, '--flake', `${flakeDir}#${host}`, '-L', '--show-trace']
}
