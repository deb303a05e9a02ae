// The archive on disk: GNU tar (sparse-aware) of the staging dir, gzip-compressed by zlib, signed with the
// host's backup key in the gzip header (auth.ts). Written into a file that is 0600 from its creation (O_EXCL),
// synced, then linked to its final name, which fails instead of replacing an existing file.
// Reading is the reverse, in an order that lets nothing unauthenticated reach tar: copy the archive into the
// private restore staging dir while computing its MAC, compare, and only then list and extract that copy.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  fsyncSync,
  linkSync,
  openSync,
  readdirSync,
  readSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { createGzip } from 'node:zlib'
import { execa } from 'execa'
import { tool } from '../platform/tool.ts'
import { XoaError } from '../util/errors.ts'
import { HEADER_BYTES, header, macMatches, newMac, readHeader, ZLIB_HEADER } from './auth.ts'

/** Pack `staging` into `target`, signed with `key`; returns its size. Throws with code EEXIST if `target` exists. */
export async function writeArchive(staging: string, target: string, key: Buffer): Promise<number> {
  const tmp = join(dirname(target), `.${basename(target)}.${randomBytes(4).toString('hex')}.tmp`)
  const fd = openSync(tmp, 'wx', 0o600)
  try {
    fchmodSync(fd, 0o600) // the umask can only have narrowed it; make it exact
    const mac = newMac(key)
    let pos = HEADER_BYTES
    let skip = ZLIB_HEADER.length
    const gzip = createGzip({ level: 6 })
    gzip.on('data', (chunk: Buffer) => {
      if (skip > 0) {
        const head = chunk.subarray(0, skip)
        if (
          !head.equals(
            ZLIB_HEADER.subarray(ZLIB_HEADER.length - skip, ZLIB_HEADER.length - skip + head.length),
          )
        )
          gzip.destroy(new Error('unexpected gzip header from zlib'))
        chunk = chunk.subarray(head.length)
        skip -= head.length
      }
      mac.update(chunk)
      writeSync(fd, chunk, 0, chunk.length, pos)
      pos += chunk.length
    })
    const gzipped = new Promise<void>((resolve, reject) => {
      gzip.on('end', resolve)
      gzip.on('error', reject)
    })
    // Members named files/…, manifest.json, redis.json (no "./" prefix): what `tar -tzf` users expect.
    const top = readdirSync(staging).sort()
    await tarInto(gzip, [
      '--create',
      '--file=-',
      '--format=gnu',
      '--sparse',
      `--directory=${staging}`,
      '--',
      ...top,
    ])
    await gzipped
    writeSync(fd, header(key, mac.digest()), 0, HEADER_BYTES, 0)
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

/** Run tar with its stdout piped into `sink`. */
function tarInto(sink: NodeJS.WritableStream, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool('tar'), args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    child.stdout.pipe(sink)
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

export function notUsable(file: string, why: string): XoaError {
  return new XoaError(`${file} is not a usable xoa backup: ${why}; nothing was changed`, {
    hint: 'pick another archive: ls -l the backups directory (xoa backup prints it), or pass the right --key',
  })
}

/**
 * Copy `file` to `copy` (a new 0600 file in a private dir) while checking its MAC under `key`; throws,
 * leaving nothing trusted behind, unless the archive is exactly what a holder of the key wrote. Later steps
 * read only the copy, so the original changing meanwhile does not matter.
 */
export function authenticatedCopy(file: string, copy: string, key: Buffer): void {
  let from: number
  try {
    from = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
  } catch (e) {
    throw notUsable(file, `cannot open it (${(e as NodeJS.ErrnoException).code})`)
  }
  const to = openSync(copy, 'wx', 0o600)
  try {
    if (!fstatSync(from).isFile()) throw notUsable(file, 'it is not a regular file')
    const head = Buffer.alloc(HEADER_BYTES)
    const got = readSync(from, head, 0, HEADER_BYTES, null)
    const h = readHeader(head.subarray(0, got), key)
    if (!h.ok) throw notUsable(file, h.why)
    writeSync(to, head)
    const mac = newMac(key)
    const buf = Buffer.allocUnsafe(1 << 20)
    for (
      let n = readSync(from, buf, 0, buf.length, null);
      n > 0;
      n = readSync(from, buf, 0, buf.length, null)
    ) {
      mac.update(buf.subarray(0, n))
      writeSync(to, buf, 0, n)
    }
    if (!macMatches(h.mac, mac.digest()))
      throw notUsable(file, 'its signature does not match its content (damaged or altered since it was made)')
    fsyncSync(to)
  } catch (e) {
    rmSync(copy, { force: true })
    throw e
  } finally {
    closeSync(from)
    closeSync(to)
  }
}

export interface Member {
  /** Normalised: no "./" prefix, no trailing "/". */
  name: string
  /** As tar lists it, to name it to tar again. */
  raw: string
  type: 'file' | 'dir'
  size: number
}

export interface Listing {
  members: Member[]
  /**
   * Bytes of the uncompressed tar stream (`--totals`): a bound on what extracting it writes, since holes of
   * sparse members are not in the stream. Undefined when tar does not say.
   */
  streamBytes?: number
}

/** What the (authenticated) archive holds, from `tar --list`: only plain files and directories pass. */
export async function listArchive(file: string, shownAs: string): Promise<Listing> {
  const args = [
    '--list',
    '--verbose',
    '--totals',
    '--numeric-owner',
    '--quoting-style=literal',
    '--gzip',
    `--file=${file}`,
  ]
  const list = await execa(tool('tar'), args, {
    reject: false,
    env: { LC_ALL: 'C', TZ: 'UTC' },
  })
  if (list.exitCode !== 0)
    throw notUsable(shownAs, String(list.stderr).trim().split('\n')[0] ?? 'tar cannot read it')
  const out: Member[] = []
  for (const line of String(list.stdout).split('\n').filter(Boolean)) {
    // -rw------- 0/0   12 2026-12-01 16:00 ./files/data/x
    const m = /^([-d])[-rwxsStT]{9} \d+\/\d+ +(\d+) \d{4}-\d\d-\d\d \d\d:\d\d (.+)$/.exec(line)
    if (!m) throw notUsable(shownAs, `it holds something other than plain files: ${line}`)
    const name = m[3]!.replace(/^\.\//, '').replace(/\/$/, '')
    if (name.startsWith('/') || name.split('/').some((s) => s === '..'))
      throw notUsable(shownAs, `unsafe member name ${m[3]}`)
    if (name === '.' || name === '') continue
    out.push({ name, raw: m[3]!, type: m[1] === 'd' ? 'dir' : 'file', size: Number(m[2]) })
  }
  const totals = /Total bytes read: (\d+)/.exec(String(list.stderr))
  return { members: out, streamBytes: totals ? Number(totals[1]) : undefined }
}

/** Unpack `members` (raw names, or everything) of the authenticated copy into `into`, a private dir. */
export async function extractArchive(file: string, into: string, shownAs: string, members?: string[]) {
  const x = await execa(
    tool('tar'),
    [
      '--extract',
      '--gzip',
      `--file=${file}`,
      `--directory=${into}`,
      '--no-same-owner',
      '--no-same-permissions',
      '--no-overwrite-dir',
      ...(members ? ['--', ...members] : []),
    ],
    { reject: false },
  )
  if (x.exitCode !== 0) throw notUsable(shownAs, String(x.stderr).trim().split('\n')[0] ?? 'tar failed')
}
