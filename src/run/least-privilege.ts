// How root starts what runs as the service account (xo-server and its Redis under `xoa up`, XO's
// recover-account-cli in bootstrap): as that account with no capability left in any set and no_new_privs, so
// nothing they run — a setuid binary included — can gain a privilege back. A plain uid switch (spawn's uid/gid) would clear CapPrm/CapEff but keep the bounding
// set, which in a container is the runtime's default list. Only the mount broker keeps what mounting needs.
import { hostTool } from '../platform/tool.ts'

/** Pure: `command` run as uid/gid with its supplementary groups, every capability set emptied, no_new_privs. */
export function leastPrivilege(uid: number, gid: number, command: string[]): string[] {
  return [
    hostTool('setpriv', 'starting a service with no capabilities'),
    `--reuid=${uid}`,
    `--regid=${gid}`,
    '--init-groups',
    // Inheritable first: ambient capabilities must be a subset of it.
    '--inh-caps=-all',
    '--ambient-caps=-all',
    // Dropping from the bounding set needs CAP_SETPCAP, which root has here before the switch.
    '--bounding-set=-all',
    '--no-new-privs',
    '--',
    ...command,
  ]
}
