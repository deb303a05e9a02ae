// One way to take a secret from a file, everywhere in the spec. A typed secret field is named `…File` and holds an
// absolute path (webAdmin.passwordFile, xoState's passwordFile…); a free-form map (xo.extraServerEnv, xo.settings)
// takes `{ file = "/abs/path" }` in place of a string. Files are read by root at run time (bootstrap, `xoa up`,
// `xoa state apply`), never at render time, so no secret reaches a rendered file, a plan diff or the Nix store.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs'
import { z } from 'zod'
import { XoaError } from '../util/errors.ts'

/** Enough for any password, key or token; a larger file is a mistake (a wrong path). */
const MAX_BYTES = 64 * 1024

export const secretFileRef = z
  .strictObject({
    file: z
      .string()
      .refine(
        (p) => p.startsWith('/') && !p.split('/').includes('..'),
        'must be an absolute path without ".."',
      )
      .refine((p) => !/[\0\n\r]/.test(p), 'must not contain NUL or newlines'),
  })
  .describe('A secret read from this file at run time (mode 600 or stricter, owned by root).')

export type SecretFileRef = z.infer<typeof secretFileRef>

export function isSecretFileRef(v: unknown): v is SecretFileRef {
  return secretFileRef.safeParse(v).success
}

/**
 * The secret in `path`, its one trailing newline removed. Symlinks are followed (NixOS secret managers link
 * theirs); what is checked is the opened file itself: a regular file, owned by root or by whoever reads it,
 * with no group or other permission bits. `field` names the spec field in every error.
 */
export function readSecretFile(path: string, field: string): string {
  let fd: number
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOCTTY | constants.O_NONBLOCK)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    throw new XoaError(`${field}: cannot read ${path} (${code})`, {
      hint: code === 'ENOENT' ? `write the secret into ${path} (mode 600)` : undefined,
    })
  }
  try {
    const st = fstatSync(fd)
    if (!st.isFile()) throw new XoaError(`${field}: ${path} is not a regular file`)
    const me = process.geteuid?.() ?? 0
    if (st.uid !== 0 && st.uid !== me)
      throw new XoaError(`${field}: ${path} is owned by uid ${st.uid}, not by root`, {
        hint: `chown root ${path}`,
      })
    if ((st.mode & 0o077) !== 0)
      throw new XoaError(`${field}: ${path} is open to others (mode ${(st.mode & 0o777).toString(8)})`, {
        hint: `chmod 600 ${path}`,
      })
    if (st.size > MAX_BYTES) throw new XoaError(`${field}: ${path} is larger than ${MAX_BYTES} bytes`)
    const buf = Buffer.alloc(MAX_BYTES + 1)
    let n = 0
    for (let r = 1; r > 0 && n <= MAX_BYTES; n += r) r = readSync(fd, buf, n, buf.length - n, null)
    if (n > MAX_BYTES) throw new XoaError(`${field}: ${path} is larger than ${MAX_BYTES} bytes`)
    const value = buf
      .subarray(0, n)
      .toString('utf8')
      .replace(/\r?\n$/, '')
    if (value === '') throw new XoaError(`${field}: ${path} is empty`)
    return value
  } finally {
    closeSync(fd)
  }
}
