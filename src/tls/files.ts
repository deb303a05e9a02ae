// Writing key material safely: a new file made exclusively in the target directory, its mode and owner set
// through the open descriptor before anything can see it, then renamed over the old path. A symlink planted
// at the path is replaced, never followed.
import { randomBytes } from 'node:crypto'
import { mkdir, open, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

export interface FileOwner {
  uid: number
  gid: number
}

export interface WriteOptions {
  mode: number
  owner?: FileOwner
  /** Mode for directories that have to be created. */
  dirMode?: number
}

export async function writeFileAtomic(path: string, data: string, opts: WriteOptions): Promise<void> {
  const dir = dirname(path)
  await mkdir(dir, { recursive: true, mode: opts.dirMode ?? 0o755 })
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
  // 0600 from the first byte; the final mode comes after the owner so a key is never briefly readable.
  const fh = await open(tmp, 'wx', 0o600)
  try {
    await fh.writeFile(data)
    if (opts.owner) await fh.chown(opts.owner.uid, opts.owner.gid)
    await fh.chmod(opts.mode)
    await fh.sync()
  } catch (e) {
    await fh.close()
    await rm(tmp, { force: true })
    throw e
  }
  await fh.close()
  try {
    await rename(tmp, path)
  } catch (e) {
    await rm(tmp, { force: true })
    throw e
  }
}
