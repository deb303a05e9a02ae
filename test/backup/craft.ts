// Making archives the way an attacker would: any tar (symlinks, setuid bits, modes in the manifest),
// gzip-compressed, signed with any key — the host's (what only a holder of the key could do) or another.
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync, gzipSync } from 'node:zlib'
import { header, newMac } from '../../src/backup/auth.ts'

/** Sign a gzip stream the way xoa does: its header replaced by one carrying the HMAC of the rest. */
export function sign(gz: Buffer, key: Buffer): Buffer {
  const body = gz.subarray(10)
  return Buffer.concat([header(key, newMac(key).update(body).digest()), body])
}

/** Unpack a real archive into `dir` (as root, keeping what tar keeps) to edit it. */
export function unpack(archive: string, dir: string): void {
  mkdirSync(dir, { recursive: true })
  execFileSync('tar', ['--extract', `--directory=${dir}`], { input: gunzipSync(readFileSync(archive)) })
}

/** The tar of `dir` as is: symlinks stay symlinks, modes and owners as on disk. */
export function pack(dir: string): Buffer {
  return gzipSync(
    execFileSync('tar', ['--create', '--format=gnu', '--file=-', `--directory=${dir}`, '.'], {
      maxBuffer: 1 << 30,
    }),
  )
}

export function readManifest(dir: string): Record<string, unknown> & { files: Record<string, unknown>[] } {
  return JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'))
}

export function hostKeyOf(secretsDir: string): Buffer {
  return Buffer.from(readFileSync(join(secretsDir, 'backup-key'), 'utf8').trim(), 'hex')
}
