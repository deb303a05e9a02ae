// Checks a file with the real tool before it is installed: visudo, systemd-analyze, sshd, a TOML parser.
// A file that fails is never installed (apply checks every file of a run before writing any). A validator whose
// tool is absent is an error naming the package to install (apply installs them first on a live host).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { execa } from 'execa'
import { parse as parseToml } from 'smol-toml'
import { tool } from '../platform/tool.ts'
import type { Validator } from '../render/types.ts'
import { missingTool, notFound, toolEnv } from './packages.ts'

export interface Candidate {
  path: string
  content: string
  validate?: Validator
}

export interface ValidationContext {
  /** Every unit file of the plan (path, content), so units that name each other resolve. */
  units: Candidate[]
  /** Executables that apply or the build provide later (path prefixes): "not executable" is fine for them. */
  providedLater: string[]
}

/** Undefined when the file is valid, else what the validator said. */
export async function validateCandidate(c: Candidate, ctx: ValidationContext): Promise<string | undefined> {
  if (!c.validate) return undefined
  const dir = mkdtempSync(join(tmpdir(), 'xoa-validate-'))
  try {
    switch (c.validate) {
      case 'toml':
        return checkToml(c.content)
      case 'redis':
        return checkRedis(c.content)
      case 'visudo':
        return await checkSudoers(dir, c.content)
      case 'sshd':
        return await checkSshd(dir, c.content)
      case 'systemd-unit':
        return await checkUnit(dir, c, ctx)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

function checkToml(content: string): string | undefined {
  try {
    parseToml(content)
    return undefined
  } catch (e) {
    return `TOML does not parse: ${(e as Error).message.split('\n')[0]}`
  }
}

/** redis.conf is "directive arg…" lines; a dry start is too heavy, so check the shape and the quoting. */
export function checkRedis(content: string): string | undefined {
  const bad = content.split('\n').findIndex((raw) => {
    const l = raw.trim()
    if (l === '' || l.startsWith('#')) return false
    if (!/^[a-z][a-z0-9-]*(\s+\S.*)?$/i.test(l)) return true
    return (l.match(/"/g)?.length ?? 0) % 2 === 1
  })
  return bad < 0 ? undefined : `line ${bad + 1} is not a redis directive: ${content.split('\n')[bad]}`
}

async function checkSudoers(dir: string, content: string): Promise<string | undefined> {
  const f = join(dir, 'sudoers')
  writeFileSync(f, content, { mode: 0o440 })
  const r = await execa(tool('visudo'), ['-cf', f], { reject: false, all: true, env: toolEnv() })
  if (notFound(r)) throw missingTool('visudo', 'checking a sudoers file')
  return r.exitCode === 0 ? undefined : `visudo -cf: ${clean(r.all, dir)}`
}

async function checkSshd(dir: string, content: string): Promise<string | undefined> {
  // A drop-in is not a whole config: wrap it like Debian's sshd_config does, with a throwaway host key.
  const key = join(dir, 'host_key')
  const keygen = await execa(tool('ssh-keygen'), ['-q', '-t', 'ed25519', '-N', '', '-f', key], {
    reject: false,
    all: true,
    env: toolEnv(),
  })
  if (notFound(keygen)) throw missingTool('ssh-keygen', 'checking the sshd drop-in')
  if (keygen.exitCode !== 0) return `ssh-keygen (throwaway host key): ${clean(keygen.all, dir)}`
  writeFileSync(join(dir, 'drop-in.conf'), content)
  const main = join(dir, 'sshd_config')
  writeFileSync(main, `HostKey ${key}\nInclude ${join(dir, 'drop-in.conf')}\n`)
  // sshd -t insists on its privilege separation dir; give it one in a private mount namespace rather
  // than creating /run/sshd on a host (or a --root target) that has none.
  const r = await execa(
    tool('unshare'),
    [
      '--mount',
      'sh',
      '-c',
      'test -x "$2" || exit 127; "$3" -t tmpfs -o mode=0755 tmpfs /run && mkdir -m 0755 /run/sshd && exec "$2" -t -f "$1"',
      'sh',
      main,
      tool('sshd'),
      tool('mount'),
    ],
    { reject: false, all: true, env: toolEnv() },
  )
  if (notFound(r)) throw missingTool('unshare', 'checking the sshd drop-in')
  if (r.exitCode === 127) throw missingTool('sshd', 'checking the sshd drop-in')
  return r.exitCode === 0 ? undefined : `sshd -t: ${clean(r.all, dir)}`
}

async function checkUnit(dir: string, c: Candidate, ctx: ValidationContext): Promise<string | undefined> {
  return verifyUnits(dir, [c], ctx)
}

/** Lay the plan's units out as systemd would find them, with the candidates' content, and verify those. */
async function verifyUnits(
  dir: string,
  cands: Candidate[],
  ctx: ValidationContext,
): Promise<string | undefined> {
  const place = (p: string) =>
    /\.d$/.test(basename(dirname(p))) ? join(dir, basename(dirname(p)), basename(p)) : join(dir, basename(p))
  const byPath = new Map([...ctx.units, ...cands].map((u) => [u.path, u]))
  for (const u of byPath.values()) {
    mkdirSync(dirname(place(u.path)), { recursive: true })
    writeFileSync(place(u.path), u.content)
  }
  // A drop-in is verified through the unit it extends.
  const targets = cands.map((c) =>
    /\.d$/.test(basename(dirname(c.path)))
      ? join(dir, basename(dirname(c.path)).replace(/\.d$/, ''))
      : place(c.path),
  )
  const r = await execa(
    tool('systemd-analyze'),
    ['verify', '--man=no', '--generators=no', ...new Set(targets)],
    {
      reject: false,
      all: true,
      env: toolEnv(),
    },
  )
  if (notFound(r)) throw missingTool('systemd-analyze', 'checking the unit files')
  const ours = (r.all ?? '')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .filter((l) => !isProvidedLater(l, ctx.providedLater))
  // Warnings (unknown keys…) exit 0 but still mean a unit we got wrong: only noise from other units is ignored.
  const problems = ours.filter(
    (l) => l.includes(dir) || [...byPath.keys()].some((p) => l.includes(basename(p))),
  )
  if (problems.length === 0 && (r.exitCode === 0 || ours.length === 0)) return undefined
  return `systemd-analyze verify: ${clean((problems.length ? problems : ours).join('\n'), dir)}`
}

/**
 * Several candidates at once: units are verified together in one systemd-analyze run (the slow part), and only
 * when that fails one by one, to name the failing file. Returns the problems by path.
 */
export async function validateCandidates(
  cands: Candidate[],
  ctx: ValidationContext,
): Promise<Map<string, string>> {
  const problems = new Map<string, string>()
  const units = cands.filter((c) => c.validate === 'systemd-unit')
  let unitsOk = units.length === 0
  if (!unitsOk) {
    const dir = mkdtempSync(join(tmpdir(), 'xoa-validate-'))
    try {
      unitsOk = (await verifyUnits(dir, units, ctx)) === undefined
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
  for (const c of cands) {
    if (c.validate === 'systemd-unit' && unitsOk) continue
    const problem = await validateCandidate(c, ctx)
    if (problem) problems.set(c.path, problem)
  }
  return problems
}

function isProvidedLater(line: string, prefixes: string[]): boolean {
  const m = /Command (\S+) is not executable: No such file or directory/.exec(line)
  return m?.[1] !== undefined && prefixes.some((p) => m[1] === p || m[1]?.startsWith(`${p}/`))
}

/** Tool output without our temp paths, so the message names the real file. */
function clean(out: string | undefined, dir: string): string {
  return (out ?? '').split(dir).join('').trim().split('\n').slice(0, 5).join('\n')
}
