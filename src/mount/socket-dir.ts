// The standalone broker socket's directory, reached through descriptors. Root unlinks, creates, chowns and
// chmods the socket there; if the service account could write that directory, a symlink swapped in at the
// socket's name would turn the chown onto any file (issue 10 #8). So every directory from "/" must be root's
// and not writable by others (unless sticky, where nobody can rename root's entries), checked on its own
// O_PATH descriptor; missing ones are made root:root 0755 one at a time beneath a checked parent.
import { directCalls } from './syscalls.ts'
import { PathRefused, procFd, unsafeDir, walk } from './walk.ts'

export interface SocketDir {
  /** `/proc/self/fd/<dirfd>/<name>`: the entry `name` in the checked directory, wherever its path leads now. */
  at(name: string): string
  close(): Promise<void>
}

export async function openSocketDir(dir: string): Promise<SocketDir> {
  const sys = directCalls()
  const parts = dir.split('/').filter(Boolean)
  for (let i = 1; i <= parts.length; i++) {
    const prefix = `/${parts.slice(0, i).join('/')}`
    const opened: number[] = []
    try {
      await walk(sys, prefix, opened, unsafeDir)
    } catch (e) {
      if (!(e instanceof PathRefused) || e.code !== 'ENOENT') throw e
      const parent = await walk(sys, `/${parts.slice(0, i - 1).join('/')}`, opened, unsafeDir)
      await sys.mkdir(`${procFd(parent.fd)}/${parts[i - 1]}`, 0o755)
    } finally {
      for (const fd of opened) await sys.close(fd).catch(() => {})
    }
  }
  const opened: number[] = []
  const { fd, st } = await walk(sys, dir, opened, unsafeDir)
  const close = async () => {
    for (const o of opened) await sys.close(o).catch(() => {})
  }
  const unsafe =
    unsafeDir(st, dir) ?? ((st.mode & 0o170000) === 0o040000 ? undefined : `${dir} is not a directory`)
  if (unsafe) {
    await close()
    throw new PathRefused(`mounts.brokerSocket: ${unsafe}`)
  }
  return { at: (name) => `${procFd(fd)}/${name}`, close }
}
