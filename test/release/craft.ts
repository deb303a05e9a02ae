// Hostile release archives for the import tests: real ustar/pax bytes written member by member, so a test can
// put in exactly what an attacker would (a hard link to /etc/shadow, a device node, a lying size), with an
// index that agrees with the attack — the import must refuse on its own checks, not on a sloppy index.

import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { contentDigest, type Entry } from '../../src/release/content.ts'
import { type Run, tempDir, xoa } from '../helpers.ts'

export const ID = '1.0.0-0123456789-0123456789ab'

export interface Member {
  name: string
  /** Tar type flag: '0' file, '5' dir, '2' symlink, '1' hard link, '3' char, '4' block, '6' fifo. */
  flag: string
  mode: number
  data?: Buffer
  linkname?: string
  /** Declared size when it must differ from the data's (a lying header). */
  size?: number
  /** Use a pax header for the size (a size no octal field holds). */
  paxSize?: boolean
  devmajor?: number
  devminor?: number
}

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, '0')}\0`
}

function block(name: string, flag: string, mode: number, size: number, linkname = '', dev = [0, 0]): Buffer {
  const b = Buffer.alloc(512)
  b.write(name, 0, 100)
  b.write(octal(mode, 8), 100)
  b.write(octal(0, 8), 108)
  b.write(octal(0, 8), 116)
  b.write(octal(size, 12), 124)
  b.write(octal(0, 12), 136)
  b.write('        ', 148)
  b.write(flag, 156)
  b.write(linkname, 157, 100)
  b.write('ustar\x0000', 257, 'binary')
  b.write(octal(dev[0] ?? 0, 8), 329)
  b.write(octal(dev[1] ?? 0, 8), 337)
  let sum = 0
  for (const x of b) sum += x
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148)
  return b
}

const pad = (n: number) => Buffer.alloc((512 - (n % 512)) % 512)

export function tarOf(members: Member[]): Buffer {
  const out: Buffer[] = []
  for (const m of members) {
    const data = m.data ?? Buffer.alloc(0)
    const size = m.size ?? data.length
    if (m.paxSize) {
      const body = ` size=${size}\n`
      let len = body.length + 2
      while (`${len}${body}`.length !== len) len++
      const rec = Buffer.from(`${len}${body}`)
      out.push(block('././@PaxHeader', 'x', 0o644, rec.length), rec, pad(rec.length))
    }
    out.push(
      block(m.name, m.flag, m.mode, m.paxSize ? 0 : size, m.linkname, [m.devmajor ?? 0, m.devminor ?? 0]),
    )
    out.push(data, pad(data.length))
  }
  out.push(Buffer.alloc(1024))
  return Buffer.concat(out)
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')

/** A small valid release: entries in index form and the members that carry them (parents first). */
export function smallRelease(id = ID): { entries: Entry[]; members: Member[] } {
  const files: [string, string, number][] = [
    [
      'manifest.json',
      JSON.stringify({
        id,
        endedAt: '2026-01-01T00:00:00.000Z',
        node: '22.0.0',
        durationMs: 1,
        sizeBytes: 1,
      }),
      0o644,
    ],
    ['xo/package.json', '{"private":true,"workspaces":["packages/*"]}', 0o644],
    ['xo/packages/w1/package.json', '{"name":"w1"}', 0o644],
    ['xo/packages/w1/run.sh', '#!/bin/sh\necho w1\n', 0o755],
  ]
  const dirs = ['xo', 'xo/packages', 'xo/packages/w1', 'xo/node_modules', 'xo/node_modules/.bin']
  const links: [string, string][] = [
    ['xo/node_modules/w1', '../packages/w1'],
    ['xo/node_modules/.bin/w1', '../w1/run.sh'],
  ]
  const entries: Entry[] = []
  const members: Member[] = []
  for (const d of dirs) {
    entries.push({ path: d, type: 'dir', mode: 0o755 })
    members.push({ name: `release/${d}/`, flag: '5', mode: 0o755 })
  }
  for (const [p, text, mode] of files) {
    const data = Buffer.from(text)
    entries.push({ path: p, type: 'file', mode, size: data.length, sha256: sha(data) })
    members.push({ name: `release/${p}`, flag: '0', mode, data })
  }
  for (const [p, target] of links) {
    entries.push({ path: p, type: 'symlink', target })
    members.push({ name: `release/${p}`, flag: '2', mode: 0o777, linkname: target })
  }
  return { entries, members }
}

/** The archive: the index first (its digest computed over `entries`, as an attacker can), then `members`. */
export function archive(
  entries: Entry[],
  members: Member[],
  o: { id?: string; gzip?: boolean; index?: object } = {},
): Buffer {
  const files = entries.filter((e) => e.type === 'file') as (Entry & { size: number })[]
  const index = o.index ?? {
    format: 'xoa-release/1',
    id: o.id ?? ID,
    digest: contentDigest(entries),
    arch: process.arch,
    files: files.length,
    bytes: files.reduce((n, f) => n + f.size, 0),
    entries,
  }
  const json = Buffer.from(JSON.stringify(index))
  const tar = tarOf([{ name: 'xoa-release.json', flag: '0', mode: 0o644, data: json }, ...members])
  return o.gzip === false ? tar : gzipSync(tar)
}

export function fileEntry(path: string, data: Buffer, mode = 0o644): { entry: Entry; member: Member } {
  return {
    entry: { path, type: 'file', mode, size: data.length, sha256: sha(data) },
    member: { name: `release/${path}`, flag: '0', mode, data },
  }
}

/** Everything under `dir` as sorted lines (type, mode, owner, size, sha256 or link target): a disk snapshot. */
export function snapshot(dir: string): string[] {
  const out: string[] = []
  const walk = (d: string, rel: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n)
      const r = rel ? `${rel}/${n}` : n
      const st = lstatSync(p)
      const head = `${r} ${(st.mode & 0o177777).toString(8)} ${st.uid}:${st.gid} ${st.nlink}`
      if (st.isSymbolicLink()) out.push(`${head} -> ${readlinkSync(p)}`)
      else if (st.isDirectory()) {
        out.push(`${head} dir`)
        walk(p, r)
      } else if (st.isFile()) out.push(`${head} ${st.size} ${sha(readFileSync(p))}`)
      else out.push(`${head} special`)
    }
  }
  walk(dir, '')
  return out
}

/** A store with one release (made on disk the way a build leaves one) and `current` on it. */
export function storeWithRelease(state: string, id = '0.9.0-fedcba9876-fedcba987654'): string {
  const dir = join(state, 'releases', id)
  mkdirSync(join(dir, 'xo'), { recursive: true })
  writeFileSync(join(dir, 'xo', 'a.js'), 'old\n')
  writeFileSync(
    join(dir, 'manifest.json'),
    JSON.stringify({ id, endedAt: '2025-01-01T00:00:00.000Z', node: '22.0.0', durationMs: 1, sizeBytes: 1 }),
  )
  symlinkSync(`releases/${id}`, join(state, 'current'))
  return id
}

/** What plain `tar -x` as root does with an archive (the naive import), for showing an attack is real. */
export function naiveExtract(file: string, into: string): void {
  mkdirSync(into, { recursive: true })
  execFileSync('tar', ['-xpf', file, '-C', into], { stdio: 'ignore' })
}

export interface ImportSetup {
  root: string
  state: string
  outside: string
  spec: string
  before: string[]
  /** Write `buf` as an archive file and run `xoa releases import` on it. */
  run(buf: Buffer, args?: string[]): Run
  /** The import failed with `why`, and the disk is exactly as before: store, outside dir, no staging. */
  refused(r: Run, why: RegExp): void
}

export function importSetup(t: { after(fn: () => void): void }): ImportSetup {
  const root = tempDir(t, 'xoa-import-')
  const state = join(root, 'state')
  const outside = join(root, 'outside')
  mkdirSync(outside)
  const spec = join(root, 'spec.json')
  writeFileSync(spec, JSON.stringify({ xo: { stateDir: state } }))
  storeWithRelease(state)
  const before = snapshot(state)
  let n = 0
  return {
    root,
    state,
    outside,
    spec,
    before,
    run(buf, args = []) {
      const file = join(root, `archive-${++n}.tar.gz`)
      writeFileSync(file, buf)
      return xoa(['releases', 'import', file, '--spec', spec, ...args])
    },
    refused(r, why) {
      assert.notEqual(r.status, 0, `the import must fail: ${r.stdout}`)
      assert.match(r.stderr, why)
      assert.match(r.stderr, /the store is unchanged/)
      assert.deepEqual(
        snapshot(state),
        before,
        'the store is exactly as it was (no staging, no partial release)',
      )
      assert.deepEqual(readdirSync(outside), [], 'nothing was written outside the store')
    },
  }
}
