// The one hardening set every xoa unit starts from. Units relax it only through the options below, and each
// relaxation is written into the unit as a comment, so the reason travels with the file.
import type { UnitLine } from './systemd.ts'
import { pathList } from './systemd.ts'

export interface HardeningOptions {
  /** Paths the service may write under ProtectSystem=strict; everything else is read-only. */
  readWritePaths: readonly string[]
  /** 'strict' (default): all read-only but readWritePaths. 'yes': only /usr and /boot read-only. */
  protectSystem?: 'strict' | 'yes'
  /** Address families the service needs. */
  addressFamilies: readonly string[]
  /** Capabilities granted (empty = none at all). */
  capabilities?: readonly string[]
  /** Why capabilities are granted; required when there are any. */
  capabilityReason?: string
  /** Runs as root (bootstrap): keeps root's capabilities, since it creates and chowns files for others. */
  root?: boolean
  /** No network at all (Redis on a Unix socket). */
  privateNetwork?: boolean
  /** Allow writable+executable memory (V8's JIT needs it). */
  jit?: boolean
  /** File creation mask; 0027 (group may read, others nothing) unless a service keeps its files private. */
  umask?: string
  /**
   * Why the service may set setuid/setgid bits (RestrictSUIDSGID= left out); unset: it may not. Only the build
   * needs it: npm tarballs such as fuse-shared-library-linux chmod a script to 6775 on install.
   */
  setidReason?: string
  /** Extra lines appended as they are (with their own comments). */
  extra?: readonly UnitLine[]
}

export function hardening(o: HardeningOptions): UnitLine[] {
  const caps = o.capabilities ?? []
  const lines: UnitLine[] = [
    ['NoNewPrivileges', true],
    ['ProtectSystem', o.protectSystem ?? 'strict'],
  ]
  if (o.readWritePaths.length > 0) lines.push(['ReadWritePaths', pathList(o.readWritePaths)])
  if (o.root) {
    lines.push({
      comment:
        'Runs as root with root capabilities: it creates directories and files owned by other accounts.',
    })
  } else if (caps.length > 0) {
    lines.push(
      { comment: o.capabilityReason ?? 'Capabilities granted.' },
      ['CapabilityBoundingSet', caps.join(' ')],
      ['AmbientCapabilities', caps.join(' ')],
    )
  } else {
    lines.push(['CapabilityBoundingSet', ''], ['AmbientCapabilities', ''])
  }
  lines.push(
    ['PrivateTmp', true],
    ['PrivateDevices', true],
    ['ProtectHome', true],
    ['ProtectKernelTunables', true],
    ['ProtectKernelModules', true],
    ['ProtectKernelLogs', true],
    ['ProtectControlGroups', true],
    ['ProtectClock', true],
    ['ProtectHostname', true],
    ['ProtectProc', 'invisible'],
    ['RestrictNamespaces', true],
    ['RestrictRealtime', true],
    ...(o.setidReason ? [{ comment: o.setidReason }] : [['RestrictSUIDSGID', true] as const]),
    ['LockPersonality', true],
    ['SystemCallArchitectures', 'native'],
    ['SystemCallFilter', '@system-service'],
  )
  if (!o.root) lines.push(['RemoveIPC', true], ['SystemCallFilter', '~@privileged @resources'])
  lines.push({ comment: 'A refused system call fails with EPERM instead of killing the process.' }, [
    'SystemCallErrorNumber',
    'EPERM',
  ])
  if (o.privateNetwork) lines.push(['PrivateNetwork', true])
  lines.push(['RestrictAddressFamilies', o.addressFamilies.join(' ')])
  if (o.jit) {
    lines.push({
      comment:
        'MemoryDenyWriteExecute is deliberately not set: the V8 JIT of Node needs writable+executable memory.',
    })
  } else {
    lines.push(['MemoryDenyWriteExecute', true])
  }
  lines.push(['UMask', o.umask ?? '0027'], ...(o.extra ?? []))
  return lines
}
