// What mounting remotes and restoring files need from the host: FUSE, vhdimount, the mount broker's socket;
// and the sshd drop-in of the admin account. The seed's "Mount Operations Fail" and "Cannot SSH" sections.
import { execa } from 'execa'
import { currentPlatform } from '../../platform/load.ts'
import { type ToolName, toolPath } from '../../platform/platform.ts'
import { renderSshdDropIn, SSHD_DROP_IN } from '../../render/sshd.ts'
import { exists, octal, pathFacts, readText, serviceIds } from '../host.ts'
import { bySystemd, type Check, fail, ok, skip, specArg, warn } from './types.ts'

/** A tool where the platform puts it, under the host's root (the broker runs that file, never one on PATH). */
function findTool(ctx: Parameters<Check['run']>[0], tool: ToolName): string | undefined {
  const path = toolPath(currentPlatform(), tool)
  return exists(ctx.host, path) ? path : undefined
}

export const fuseCheck: Check = {
  name: 'fuse',
  run(ctx) {
    const st = pathFacts(ctx.host, '/dev/fuse')
    if (st?.type === 'other') return [ok('fuse', '/dev/fuse is present')]
    return [
      warn(
        'fuse',
        '/dev/fuse is missing: file-level restore from backups will not work',
        'modprobe fuse (in a container: pass --device /dev/fuse)',
      ),
    ]
  },
}

export const vhdimountCheck: Check = {
  name: 'vhdimount',
  async run(ctx) {
    if (ctx.spec.mounts.mode === 'none') return [skip('vhdimount', 'mounts are off (mounts.mode = "none")')]
    const tools = (['vhdimount', 'vhdiinfo'] as const).map((t) => [t, findTool(ctx, t)] as const)
    const missing = tools.filter(([, p]) => !p).map(([t]) => t)
    if (missing.length > 0)
      return [
        warn(
          'vhdimount',
          `${missing.join(' and ')} not found: VHD file restore is unavailable`,
          'apt-get install libvhdi-utils',
        ),
      ]
    if (!ctx.host.live) return [ok('vhdimount', 'vhdimount and vhdiinfo are installed')]
    const r = await execa(tools[0]![1]!, ['-V'], { reject: false, timeout: 10_000 })
    const version = (r.stdout || r.stderr).split('\n')[0]?.trim()
    if (r.exitCode !== 0)
      return [
        warn('vhdimount', `vhdimount -V failed: ${version}`, 'apt-get install --reinstall libvhdi-utils'),
      ]
    return [ok('vhdimount', `${version} (vhdiinfo too)`)]
  },
}

export const brokerCheck: Check = {
  name: 'broker',
  run(ctx) {
    const { spec } = ctx
    if (spec.mounts.mode !== 'broker') return [skip('broker', `mounts.mode is "${spec.mounts.mode}"`)]
    const sock = spec.mounts.brokerSocket
    const restart = bySystemd(
      ctx,
      'systemctl restart xoa-mountd.socket',
      'restart xoa up as root (it starts the broker)',
    )
    const st = pathFacts(ctx.host, sock)
    if (!st) return [fail('broker', `the mount broker socket ${sock} does not exist`, restart)]
    if (st.type !== 'socket') return [fail('broker', `${sock} is not a socket`, `rm ${sock} && ${restart}`)]
    const gid = serviceIds(ctx.host, spec).gid
    const problems = [
      ...(st.mode !== 0o660 ? [`mode ${octal(st.mode)}, not 0660`] : []),
      ...(gid !== undefined && st.gid !== gid ? [`group is not ${spec.service.group}`] : []),
    ]
    if (problems.length > 0)
      return [
        fail(
          'broker',
          `${sock}: ${problems.join(', ')}`,
          bySystemd(ctx, `xoa apply${specArg(ctx)} && ${restart}`, restart),
        ),
      ]
    return [ok('broker', `${sock} is 0660, group ${spec.service.group}`)]
  },
}

export const sshdCheck: Check = {
  name: 'sshd',
  async run(ctx) {
    const { spec } = ctx
    if (!spec.admin.enable || !spec.admin.sshd) return [skip('sshd', 'admin.sshd is off')]
    if (ctx.server.mode !== 'systemd') return [skip('sshd', 'xoa up does not manage sshd')]
    const sshd = findTool(ctx, 'sshd')
    if (!sshd) return [skip('sshd', 'sshd is not installed')]
    const want = renderSshdDropIn(spec)[0]!.content
    const have = readText(ctx.host, SSHD_DROP_IN)
    if (have === undefined)
      return [
        fail(
          'sshd',
          `${SSHD_DROP_IN} is missing: passwords and root login may be allowed`,
          `xoa apply${specArg(ctx)}`,
        ),
      ]
    if (have !== want)
      return [warn('sshd', `${SSHD_DROP_IN} differs from what the spec renders`, `xoa apply${specArg(ctx)}`)]
    const main = readText(ctx.host, '/etc/ssh/sshd_config') ?? ''
    if (!/^\s*Include\s+\/etc\/ssh\/sshd_config\.d\/\*\.conf/im.test(main))
      return [
        fail(
          'sshd',
          `/etc/ssh/sshd_config does not include sshd_config.d: ${SSHD_DROP_IN} has no effect`,
          "add 'Include /etc/ssh/sshd_config.d/*.conf' as the first line of /etc/ssh/sshd_config",
        ),
      ]
    if (!ctx.host.live) return [ok('sshd', `${SSHD_DROP_IN} matches the spec`)]
    const r = await execa(sshd, ['-t'], { reject: false, timeout: 10_000 })
    if (r.exitCode !== 0)
      return [
        fail(
          'sshd',
          `sshd -t: ${(r.stderr || r.stdout).split('\n')[0]}`,
          'fix the line sshd -t names, then systemctl reload ssh',
        ),
      ]
    return [ok('sshd', `${SSHD_DROP_IN} matches the spec; sshd -t passes`)]
  },
}
