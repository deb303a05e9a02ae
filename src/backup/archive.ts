// The archive on disk: GNU tar + gzip of the staging dir. Written into a file that is 0600 from its
// creation (opened O_EXCL with that mode, tar writing to its descriptor), synced, then linked to its final
// name, which fails instead of replacing an existing file. gzip's CRC guards the whole stream; the
// manifest's sha256 of every member guards against anything else.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { closeSync, fchmodSync, fsyncSync, linkSync, openSync, rmSync, statSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { execa } from 'execa'
import { XoaError } from '../cli/errors.ts'

/** Pack `staging` into `target`; returns its size. Throws with code EEXIST if `target` exists. */
export async function writeArchive(staging: string, target: string): Promise<number> {
  const tmp = join(dirname(target), `.${basename(target)}.${randomBytes(4).toString('hex')}.tmp`)
  const fd = openSync(tmp, 'wx', 0o600)
  try {
    fchmodSync(fd, 0o600) // the umask can only have narrowed it; make it exact
    await tarInto(fd, ['--create', '--gzip', '--file=-', '--format=gnu', `--directory=${staging}`, '.'])
    fsyncSync(fd)
    closeSync(fd)
    linkSync(tmp, target)
    return statSync(target).size
  } catch (e) {
    try {
      closeSync(fd)
    } catch {}
    throw e
  } finally {
    rmSync(tmp, { force: true })
  }
}

/** Run tar with its stdout on `fd` (execa takes no raw descriptor). */
function tarInto(fd: number, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('tar', args, { stdio: ['ignore', fd, 'pipe'] })
    let stderr = ''
    child.stderr?.setEncoding('utf8').on('data', (c: string) => {
      stderr += c
    })
    child.on('error', (e) =>
      reject(new XoaError(`cannot run tar: ${e.message}`, { hint: 'install GNU tar' })),
    )
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new XoaError(`tar failed (exit ${code}): ${stderr.trim()}`)),
    )
  })
}

/** Unpack into `into` (an empty 0700 dir) after checking that every member is a plain file or directory. */
export async function extractArchive(file: string, into: string): Promise<void> {
  const damaged = (why: string) =>
    new XoaError(`${file} is not a usable xoa backup: ${why}`, {
      hint: 'pick another archive: ls -l the backups directory (xoa backup prints it)',
    })
  const list = await execa('tar', ['--list', '--verbose', '--gzip', `--file=${file}`], { reject: false })
  if (list.exitCode !== 0) throw damaged(String(list.stderr).trim().split('\n')[0] ?? 'tar cannot read it')
  const names = await execa('tar', ['--list', '--gzip', `--file=${file}`], { reject: false })
  for (const line of String(list.stdout).split('\n').filter(Boolean))
    if (line[0] !== '-' && line[0] !== 'd') throw damaged(`it holds something other than files: ${line}`)
  for (const n of String(names.stdout).split('\n').filter(Boolean))
    if (n.startsWith('/') || n.split('/').includes('..')) throw damaged(`unsafe member name ${n}`)
  const x = await execa(
    'tar',
    [
      '--extract',
      '--gzip',
      `--file=${file}`,
      `--directory=${into}`,
      '--no-same-owner',
      '--no-same-permissions',
    ],
    { reject: false },
  )
  if (x.exitCode !== 0) throw damaged(String(x.stderr).trim().split('\n')[0] ?? 'tar failed')
}
