// The release archive's tar layer, in xoa's own hands: a writer of POSIX pax/ustar headers and a push parser
// that yields each member's header and data to its caller. No tar(1) extracts an import: the parser only
// reports what the archive claims (name, type, mode, size, link target) and the caller decides, member by
// member, before a byte of data is written anywhere. Owners, times and every other header field are ignored.

export type MemberType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo' | 'other'

export interface MemberHeader {
  name: string
  type: MemberType
  /** The raw type flag, for messages. */
  flag: string
  mode: number
  size: number
  linkname: string
}

export class TarError extends Error {}

const BLOCK = 512
/** A pax or GNU long-name member is small; a bigger one is not what xoa writes. */
const MAX_META_BYTES = 1 << 20

const TYPES: Record<string, MemberType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '5': 'dir',
  '2': 'symlink',
  '1': 'hardlink',
  '3': 'char',
  '4': 'block',
  '6': 'fifo',
}

// ---- writing ----

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, '0')}\0`
}

function rawHeader(name: string, flag: string, mode: number, size: number, linkname: string): Buffer {
  const b = Buffer.alloc(BLOCK)
  b.write(name, 0, 100, 'utf8')
  b.write(octal(mode, 8), 100, 'ascii')
  b.write(octal(0, 8), 108, 'ascii')
  b.write(octal(0, 8), 116, 'ascii')
  b.write(octal(size, 12), 124, 'ascii')
  b.write(octal(0, 12), 136, 'ascii')
  b.write('        ', 148, 'ascii')
  b.write(flag, 156, 'ascii')
  b.write(linkname, 157, 100, 'utf8')
  b.write('ustar\x0000', 257, 'binary')
  b.write('root', 265, 'ascii')
  b.write('root', 297, 'ascii')
  let sum = 0
  for (const byte of b) sum += byte
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii')
  return b
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`
  let len = Buffer.byteLength(body) + 1
  while (Buffer.byteLength(`${len}${body}`) !== len) len++
  return `${len}${body}`
}

const needsPax = (s: string) => Buffer.byteLength(s) > 99 || /[^\x20-\x7e]/.test(s)

/** The header block(s) of one member; file data follows, padded with padding(size). */
export function header(
  name: string,
  type: 'file' | 'dir' | 'symlink',
  mode: number,
  size: number,
  linkname = '',
): Buffer {
  const flag = type === 'file' ? '0' : type === 'dir' ? '5' : '2'
  const full = type === 'dir' ? `${name}/` : name
  const records = [
    ...(needsPax(full) ? [paxRecord('path', full)] : []),
    ...(needsPax(linkname) ? [paxRecord('linkpath', linkname)] : []),
    ...(size > 0o77777777777 ? [paxRecord('size', String(size))] : []),
  ].join('')
  const main = rawHeader(
    needsPax(full) ? full.slice(0, 90).replace(/[^\x20-\x7e]/g, '_') : full,
    flag,
    mode,
    size > 0o77777777777 ? 0 : size,
    needsPax(linkname) ? '' : linkname,
  )
  if (records === '') return main
  const data = Buffer.from(records)
  return Buffer.concat([
    rawHeader('././@PaxHeader', 'x', 0o644, data.length, ''),
    data,
    padding(data.length),
    main,
  ])
}

export function padding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK)
}

/** Two zero blocks end the archive. */
export const END = Buffer.alloc(2 * BLOCK)

// ---- reading ----

export interface TarSink {
  /** A member's header; throw to refuse it. Data (if any) follows through data(), then end(). */
  member(h: MemberHeader): void
  data(chunk: Buffer): void
  end(): void
}

function cstring(b: Buffer, start: number, len: number): string {
  const s = b.subarray(start, start + len)
  const nul = s.indexOf(0)
  return (nul === -1 ? s : s.subarray(0, nul)).toString('utf8')
}

function number(b: Buffer, start: number, len: number, what: string): number {
  const f = b.subarray(start, start + len)
  if (((f[0] ?? 0) & 0x80) !== 0) {
    // GNU base-256: big-endian, first byte's high bit is the marker. Anything past 2^53 is refused.
    let n = 0n
    for (let i = 1; i < f.length; i++) n = (n << 8n) | BigInt(f[i] ?? 0)
    n |= BigInt((f[0] ?? 0) & 0x7f) << BigInt(8 * (f.length - 1))
    if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new TarError(`${what} is too large`)
    return Number(n)
  }
  const text = cstring(b, start, len).trim()
  if (text === '') return 0
  if (!/^[0-7]+$/.test(text)) throw new TarError(`${what} is not a number: ${JSON.stringify(text)}`)
  return Number.parseInt(text, 8)
}

function checksumOk(b: Buffer): boolean {
  const want = number(b, 148, 8, 'header checksum')
  let sum = 0
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : (b[i] ?? 0)
  return sum === want
}

function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {}
  let i = 0
  while (i < data.length) {
    const sp = data.indexOf(0x20, i)
    const len = Number(data.subarray(i, sp).toString('ascii'))
    if (sp === -1 || !Number.isInteger(len) || len <= 0 || i + len > data.length)
      throw new TarError('malformed pax header')
    const rec = data.subarray(sp + 1, i + len - 1).toString('utf8')
    const eq = rec.indexOf('=')
    if (eq === -1) throw new TarError('malformed pax record')
    out[rec.slice(0, eq)] = rec.slice(eq + 1)
    i += len
  }
  return out
}

/**
 * A push parser: feed it chunks as they come, then finish(). Pax ('x') and GNU long-name ('L', 'K') members
 * are folded into the member they describe; a global pax header ('g') or a sparse/multi-volume member is
 * refused. finish() throws if the archive stops before its end marker (a truncated archive).
 */
export class TarReader {
  private buf: Buffer = Buffer.alloc(0)
  /** Bytes of data left in the current member, then its padding. */
  private left = 0
  private pad = 0
  private meta: { kind: 'x' | 'L' | 'K'; parts: Buffer[]; size: number } | undefined
  private pending: { path?: string; linkpath?: string; size?: number } = {}
  private inMember = false
  private ended = false
  private zeroBlocks = 0

  constructor(private readonly sink: TarSink) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk])
    let off = 0
    for (;;) {
      if (this.ended) {
        off = this.buf.length // what follows the end marker (record padding) is ignored
        break
      }
      if (this.left > 0) {
        const n = Math.min(this.left, this.buf.length - off)
        if (n === 0) break
        const part = this.buf.subarray(off, off + n)
        if (this.meta) this.meta.parts.push(Buffer.from(part))
        else this.sink.data(part)
        this.left -= n
        off += n
        if (this.left > 0) break
      }
      if (this.left === 0 && this.pad > 0) {
        const n = Math.min(this.pad, this.buf.length - off)
        this.pad -= n
        off += n
        if (this.pad > 0) break
      }
      if (this.left === 0 && this.pad === 0 && this.inMember) this.closeMember()
      if (this.buf.length - off < BLOCK) break
      this.header(this.buf.subarray(off, off + BLOCK))
      off += BLOCK
    }
    this.buf = this.buf.subarray(off)
  }

  finish(): void {
    if (!this.ended) throw new TarError('the archive ends before its end marker (truncated?)')
  }

  private closeMember(): void {
    this.inMember = false
    const meta = this.meta
    if (!meta) {
      this.sink.end()
      return
    }
    this.meta = undefined
    const data = Buffer.concat(meta.parts)
    if (meta.kind === 'x') {
      const rec = parsePax(data)
      if (rec.path !== undefined) this.pending.path = rec.path
      if (rec.linkpath !== undefined) this.pending.linkpath = rec.linkpath
      if (rec.size !== undefined) {
        if (!/^\d+$/.test(rec.size) || Number(rec.size) > Number.MAX_SAFE_INTEGER)
          throw new TarError('pax size is not a number')
        this.pending.size = Number(rec.size)
      }
    } else {
      const nul = data.indexOf(0)
      const s = (nul === -1 ? data : data.subarray(0, nul)).toString('utf8')
      if (meta.kind === 'L') this.pending.path = s
      else this.pending.linkpath = s
    }
  }

  private header(b: Buffer): void {
    if (b.every((x) => x === 0)) {
      if (++this.zeroBlocks === 2) this.ended = true
      return
    }
    if (this.zeroBlocks > 0) throw new TarError('a zero block in the middle of the archive')
    if (!checksumOk(b)) throw new TarError('a header checksum does not match (not a tar archive, or damaged)')
    const flag = String.fromCharCode(b[156] ?? 0)
    const size = this.pending.size ?? number(b, 124, 12, 'member size')
    this.inMember = true
    this.left = size
    this.pad = (BLOCK - (size % BLOCK)) % BLOCK
    if (flag === 'x' || flag === 'L' || flag === 'K') {
      if (size > MAX_META_BYTES) throw new TarError(`a ${flag} header of ${size} bytes`)
      this.meta = { kind: flag, parts: [], size }
      this.pending.size = undefined
      if (size === 0) this.closeMember()
      return
    }
    if (flag === 'g') throw new TarError('a global pax header: not an archive xoa wrote')
    const prefix = b.subarray(257, 263).toString('binary') === 'ustar\x00' ? cstring(b, 345, 155) : ''
    const plain = cstring(b, 0, 100)
    const name = this.pending.path ?? (prefix ? `${prefix}/${plain}` : plain)
    const linkname = this.pending.linkpath ?? cstring(b, 157, 100)
    this.pending = {}
    this.sink.member({
      name,
      type: TYPES[flag] ?? 'other',
      flag,
      mode: number(b, 100, 8, 'mode'),
      size,
      linkname,
    })
    if (size === 0) this.closeMember()
  }
}
