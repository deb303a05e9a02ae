// At most `max` vhdimount FUSE servers at a time: each one is a root process parsing an image the service
// account wrote, and nothing else bounds how many a caller may start (issue 10 #16). Counted from the mount
// table (FUSE mounts directly below mountsDir: only the broker mounts there) plus the ones being started.
import { readFileSync } from 'node:fs'

export const DEFAULT_MAX_IMAGE_MOUNTS = 8

/** FUSE mounts whose mount point is a direct child of mountsDir, in a /proc/<pid>/mountinfo text. */
export function imageMounts(mountinfo: string, mountsDir: string): number {
  const decode = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)))
  return mountinfo
    .split('\n')
    .filter(Boolean)
    .filter((line) => {
      const fields = line.split(' ')
      const point = decode(fields[4] ?? '')
      const type = fields[fields.indexOf('-') + 1] ?? ''
      const name = point.slice(mountsDir.length + 1)
      return (
        point.startsWith(`${mountsDir}/`) && name !== '' && !name.includes('/') && /^fuse(\.|$)/.test(type)
      )
    }).length
}

let starting = 0

/** Reserve a slot for one more server; the reason it cannot be started otherwise. Call the release after it ran. */
export function reserveImageServer(
  mountsDir: string,
  max: number,
): { ok: true; release(): void } | { ok: false; reason: string } {
  const running = imageMounts(readFileSync('/proc/self/mountinfo', 'utf8'), mountsDir)
  if (running + starting >= max)
    return {
      ok: false,
      reason: `vhdimount: ${running} image mounts and ${starting} starting, at most ${max} at a time (mounts.maxImageMounts): unmount one first`,
    }
  starting++
  let done = false
  return {
    ok: true,
    release() {
      if (!done) starting--
      done = true
    },
  }
}
