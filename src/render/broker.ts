// The mount broker's files (mounts.mode = "broker"): the `sudo` shim first on xo-server's PATH and the
// socket-activated root daemon xoa-mountd. Self-contained text: nothing here depends on other renderers.
import { toolPath } from '../platform/platform.ts'
import { statePaths } from '../spec/paths.ts'
import type { Spec } from '../spec/schema.ts'
import type { Artefact } from './index.ts'
import { platformAssignment } from './platform-env.ts'
import type { RenderEnv, RenderedFile } from './types.ts'

const UNIT_DIR = '/etc/systemd/system'
const HEADER = '# Managed by xoa (rendered from the spec; edit the spec, not this file).'
const unitMeta = { mode: 0o644, owner: 'root', group: 'root', validate: 'systemd-unit' } as const

/** POSIX shell single quoting. */
const shWord = (s: string) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`)

/** One systemd command-line word: specifiers and $ escaped, quoted when needed. */
function unitWord(s: string): string {
  if (/[\n\r\0]/.test(s))
    throw new Error(`unit value must not contain a newline or NUL: ${JSON.stringify(s)}`)
  const w = s.replaceAll('%', '%%').replaceAll('$', '$$$$')
  return w !== '' && !/[\s"'\\;]/.test(w) ? w : `"${w.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`
}

/** ListenStream= takes the rest of the line as the path, unquoted; only specifiers need escaping. */
function listenPath(p: string): string {
  if (/[\n\r\0]/.test(p))
    throw new Error(`socket path must not contain a newline or NUL: ${JSON.stringify(p)}`)
  return p.replaceAll('%', '%%')
}

export function renderSudoShim(spec: Spec, env: RenderEnv): RenderedFile {
  const cmd = [...env.xoaCommand, 'broker', 'sudo', '--socket', spec.mounts.brokerSocket, '--'].map(shWord)
  const content = [
    '#!/bin/sh',
    '# Managed by xoa. The `sudo` xo-server finds first on its PATH: it forwards mount, umount, findmnt,',
    '# vhdimount and vhdiinfo to the mount broker, which runs them only if its policy allows (xoa broker check).',
    `exec ${cmd.join(' ')} "$@"`,
    '',
  ].join('\n')
  return { path: `${statePaths(spec).shimDir}/sudo`, content, mode: 0o755, owner: 'root', group: 'root' }
}

/**
 * xo-server offers SMB remotes only when `mount.cifs -V` succeeds (@xen-orchestra/fs, src/index.js). Debian's
 * mount.cifs is setuid root and refuses to run under xo-server's no_new_privs, so XO would never offer SMB;
 * SMB mounts go through the broker (`sudo mount -t cifs`), which runs the real helper as root. This probe,
 * beside the `sudo` shim, answers `-V` only, and only while the real helper is installed.
 */
export function renderCifsProbe(spec: Spec, env: RenderEnv): RenderedFile {
  const helper = shWord(toolPath(env.platform, 'mount.cifs'))
  const content = [
    '#!/bin/sh',
    "# Managed by xoa. Answers xo-server's `mount.cifs -V` (it offers SMB remotes only then); the mount itself",
    '# goes through the mount broker, which runs the real mount.cifs as root.',
    `if [ "$#" -eq 1 ] && [ "$1" = -V ] && [ -x ${helper} ]; then`,
    `  echo 'mount.cifs: mounts go through the xoa mount broker, which runs ${helper.replaceAll("'", '')}'`,
    '  exit 0',
    'fi',
    "echo 'mount.cifs: SMB mounts go through the xoa mount broker (sudo mount -t cifs)' >&2",
    'exit 1',
    '',
  ].join('\n')
  return {
    path: `${statePaths(spec).shimDir}/mount.cifs`,
    content,
    mode: 0o755,
    owner: 'root',
    group: 'root',
  }
}

export function renderMountdSocket(spec: Spec): RenderedFile {
  const content = `${HEADER}
[Unit]
Description=xoa mount broker socket (only group ${spec.service.group} may connect)

[Socket]
ListenStream=${listenPath(spec.mounts.brokerSocket)}
# The permission gate: root:${spec.service.group} 0660, so only the service account's group can send a request.
SocketUser=root
SocketGroup=${spec.service.group}
SocketMode=0660
DirectoryMode=0755
RemoveOnStop=yes

[Install]
WantedBy=sockets.target
`
  return { path: `${UNIT_DIR}/xoa-mountd.socket`, content, ...unitMeta }
}

export function renderMountdService(_spec: Spec, env: RenderEnv): RenderedFile {
  const exec = [...env.xoaCommand, 'broker', 'serve', '--spec', env.specPath].map(unitWord).join(' ')
  const platform = platformAssignment(env)
  const platformLine = platform === undefined ? '' : `Environment=${platform}\n`
  const content = `${HEADER}
[Unit]
Description=xoa mount broker: mount/umount/findmnt/vhdimount for xo-server, by policy
Requires=xoa-mountd.socket
After=xoa-mountd.socket

[Service]
Type=simple
ExecStart=${exec}
${platformLine}Restart=on-failure
# Root: mount(2) and umount(2) need CAP_SYS_ADMIN in the host's mount namespace.
# Deliberately absent: ProtectSystem, ProtectHome, PrivateTmp, PrivateDevices, ProtectKernel*, ProtectProc,
# ProtectHostname, ProtectControlGroups, ReadOnlyPaths… Each gives the service a mount namespace of its own,
# and a mount made inside it would never be seen by xo-server.
#
# Only what mounting needs: SYS_ADMIN (mount, umount, FUSE), DAC_* (open the service account's mount points
# and images), NET_BIND_SERVICE (NFS reserved source ports), SETUID/SETGID/SETPCAP (mount.cifs drops its
# own privileges and capability bounding set before talking to the server).
CapabilityBoundingSet=CAP_SYS_ADMIN CAP_DAC_OVERRIDE CAP_DAC_READ_SEARCH CAP_NET_BIND_SERVICE CAP_SETUID CAP_SETGID CAP_SETPCAP
NoNewPrivileges=yes
RestrictSUIDSGID=yes
# Device access through the cgroup, not a namespace: no block device can be opened, only /dev/fuse (vhdimount).
DevicePolicy=closed
DeviceAllow=/dev/fuse rw
RestrictNamespaces=yes
RestrictRealtime=yes
LockPersonality=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service @mount
SystemCallErrorNumber=EPERM
# NFS and SMB talk to their servers; Unix for the socket.
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
# MemoryDenyWriteExecute is not set: the V8 JIT of Node needs writable+executable memory.
UMask=0077
# vhdimount leaves a FUSE server running per mounted image: restarting the broker must not kill them
# (that would leave dead mounts behind), so only the daemon itself is stopped.
KillMode=process
`
  return { path: `${UNIT_DIR}/xoa-mountd.service`, content, ...unitMeta }
}

const onlyInBrokerMode =
  (render: (spec: Spec, env: RenderEnv) => RenderedFile) =>
  (spec: Spec, env: RenderEnv): RenderedFile[] =>
    spec.mounts.mode === 'broker' ? [render(spec, env)] : []

export const sudoShimArtefact: Artefact = {
  name: 'sudo-shim',
  description:
    "xo-server's `sudo`, a client of the mount broker, and its `mount.cifs -V` probe (mounts.mode = broker)",
  render: (spec, env) =>
    spec.mounts.mode === 'broker' ? [renderSudoShim(spec, env), renderCifsProbe(spec, env)] : [],
}

export const mountdSocketArtefact: Artefact = {
  name: 'xoa-mountd.socket',
  description: 'socket of the mount broker, root:<service group> 0660 (mounts.mode = broker)',
  render: onlyInBrokerMode(renderMountdSocket),
}

export const mountdServiceArtefact: Artefact = {
  name: 'xoa-mountd.service',
  description: 'the root mount broker daemon, socket-activated (mounts.mode = broker)',
  render: onlyInBrokerMode(renderMountdService),
}

export const brokerArtefacts: Artefact[] = [sudoShimArtefact, mountdSocketArtefact, mountdServiceArtefact]
