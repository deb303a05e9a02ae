// xoa's ownership record of XO objects: XO's users, groups, remotes, servers and ACLs carry no tags, so which of
// them xoa created (and may delete) is kept here, with the digests of what it last sent. It lives in the state
// dir's secrets (root, 0700; the file 0600), so it travels with `xoa backup`/`xoa restore` under their rules.
// Read and written through the safe filesystem layer: a symlink or a foreign file in its place is refused.
import { withParent, writeFileAt } from '../fs/at.ts'
import { XoaError } from '../util/errors.ts'
import type { XoAcl } from './api.ts'
import { newSalt } from './digest.ts'

export interface OwnedObject {
  /** XO's id of the object (for an ACL: subject/object/action). */
  id: string
  /** xoa created it: it is deleted when it leaves the spec. False: it existed and the spec adopted it. */
  created: boolean
  /** Digest of the secret-bearing value xoa last sent (password, URL, configuration). */
  sent?: string
  /** Digest of what XO reported for that value right after: a later difference is a change made in XO. */
  reported?: string
  acl?: XoAcl
}

export interface XoStateRecord {
  version: 1
  salt: string
  /** By "kind:name" (the same id the plan prints). */
  objects: Record<string, OwnedObject>
}

export function emptyRecord(): XoStateRecord {
  return { version: 1, salt: newSalt(), objects: {} }
}

const MAX_BYTES = 4 * 1024 * 1024

export async function readRecord(path: string): Promise<XoStateRecord> {
  // Only a file of our own is believed: another account's file there could make xoa delete what it names.
  const uid = process.geteuid?.() ?? 0
  const buf = await withParent(path, {}, (dir, name) =>
    dir.readFile(name, { maxBytes: MAX_BYTES, uid }),
  ).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined
    throw e
  })
  if (!buf) return emptyRecord()
  let r: XoStateRecord
  try {
    r = JSON.parse(buf.toString('utf8'))
  } catch (e) {
    throw new XoaError(`${path}: not JSON (${(e as Error).message})`, {
      hint: `restore it from a backup, or move it away to start a new record (xoa then owns nothing in XO)`,
    })
  }
  if (r?.version !== 1 || typeof r.salt !== 'string' || !/^[0-9a-f]{64}$/.test(r.salt) || !r.objects)
    throw new XoaError(`${path}: not an xoa XO-state record (version 1)`, {
      hint: 'restore it from a backup, or move it away to start a new record',
    })
  return r
}

/** Root's, 0600, in a 0700 directory (created when missing); atomic (temp + rename). */
export async function writeRecord(path: string, r: XoStateRecord): Promise<void> {
  const uid = process.geteuid?.() ?? 0
  const gid = process.getegid?.() ?? 0
  await writeFileAt(
    path,
    `${JSON.stringify(r, null, 2)}\n`,
    { uid, gid, mode: 0o600 },
    {
      create: { uid, gid, mode: 0o700 },
    },
  )
}
