// Which archives restore trusts: only those made with this host's backup key. The key is 32 random bytes in
// <stateDir>/secrets/backup-key (root, 0600), made by the first backup and never put in an archive; the
// archive carries HMAC-SHA256 under it of everything after the gzip header, in a gzip "extra" field (so it
// is still a plain .tar.gz for gzip and tar). Restore checks the HMAC before tar sees a byte. Pure parts here;
// reading and writing the key is in key-file.ts.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'

export const KEY_BYTES = 32
const ID_BYTES = 8
const MAC_BYTES = 32
/** Bound into every MAC, so a MAC made for something else under the same key never matches. */
const DOMAIN = Buffer.from('xoa-backup/2\0')

/** gzip header: magic, deflate, FLG=FEXTRA, MTIME=0, XFL=0, OS=unix; then XLEN and one "XA" subfield. */
const FIXED = Buffer.from([0x1f, 0x8b, 0x08, 0x04, 0, 0, 0, 0, 0, 0x03])
const SUB_LEN = ID_BYTES + MAC_BYTES
const XLEN = 4 + SUB_LEN
export const HEADER_BYTES = FIXED.length + 2 + XLEN
/** What zlib's gzip writes first (no name, no extra, no mtime): replaced by our header. */
export const ZLIB_HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0x03])

/** Names a key without revealing it: restore tells "another key" from "tampered". */
export function keyId(key: Buffer): Buffer {
  return createHash('sha256').update('xoa-backup-key-id\0').update(key).digest().subarray(0, ID_BYTES)
}

export function newMac(key: Buffer) {
  return createHmac('sha256', key).update(DOMAIN).update(keyId(key))
}

export function header(key: Buffer, mac: Buffer): Buffer {
  const h = Buffer.alloc(HEADER_BYTES)
  FIXED.copy(h, 0)
  h.writeUInt16LE(XLEN, 10)
  h.write('XA', 12, 'latin1')
  h.writeUInt16LE(SUB_LEN, 14)
  keyId(key).copy(h, 16)
  mac.copy(h, 16 + ID_BYTES)
  return h
}

export type HeaderCheck = { ok: true; mac: Buffer } | { ok: false; why: string }

/** Parse our header; says whether the archive is one of ours and made with `key` (the MAC is checked later). */
export function readHeader(h: Buffer, key: Buffer): HeaderCheck {
  if (h.length < HEADER_BYTES || h[0] !== 0x1f || h[1] !== 0x8b)
    return { ok: false, why: 'it is not a gzip file' }
  if (
    !h.subarray(0, FIXED.length).equals(FIXED) ||
    h.readUInt16LE(10) !== XLEN ||
    h.toString('latin1', 12, 14) !== 'XA'
  )
    return {
      ok: false,
      why: 'it carries no xoa signature (made by an xoa older than the signed format, or not by xoa)',
    }
  if (h.readUInt16LE(14) !== SUB_LEN) return { ok: false, why: 'its signature field is malformed' }
  if (!h.subarray(16, 16 + ID_BYTES).equals(keyId(key)))
    return {
      ok: false,
      why: `it was signed with another backup key (id ${h.toString('hex', 16, 16 + ID_BYTES)}, this host's is ${keyId(key).toString('hex')})`,
    }
  return { ok: true, mac: Buffer.from(h.subarray(16 + ID_BYTES, HEADER_BYTES)) }
}

export function macMatches(expected: Buffer, computed: Buffer): boolean {
  return expected.length === computed.length && timingSafeEqual(expected, computed)
}
