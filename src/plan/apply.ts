// Converging the host: observe, diff, install the packages, validate every file of the run, then change only
// what differs. Packages come first because the validators are their tools (visudo is sudo's, sshd -t
// openssh-server's, redis-server the unit's ExecStart); every other change waits for validation, so a bad file
// leaves the host as it was but for those packages.
import { execa } from 'execa'
import type { Meta, SafeDir } from '../fs/safe-dir.ts'
import type { ToolName } from '../platform/platform.ts'
import { tool } from '../platform/tool.ts'
import { XoaError } from '../util/errors.ts'
import { type Accounts, gidOf, readAccounts, uidOf } from './accounts.ts'
import { type Change, diff } from './diff.ts'
import type { Host } from './host.ts'
import { observe } from './observe.ts'
import { missingTool, notFound, stockUnitsFor, toolEnv } from './packages.ts'
import { prefixLacks } from './prefix.ts'
import { KIND_ORDER, type Resource } from './resources.ts'
import { maskStockUnits, recordMasked } from './stock-units.ts'
import { atTarget, openTarget } from './target-fs.ts'
import { runUnitSteps } from './units.ts'
import { type Candidate, validateCandidates } from './validate.ts'

export interface ApplyOptions {
  /** Executables provided later by the build or setup (see laterProvided): absent is fine when verifying units. */
  providedLater: string[]
  /** Told about each change as it is made. */
  onChange?: (c: Change) => void
  /** Where apply records the stock units it masked before installing their packages (xoa's state). */
  maskRecord?: string
}

export async function planChanges(host: Host, resources: Resource[]): Promise<Change[]> {
  return diff(resources, await observe(host, resources), host)
}

export async function apply(host: Host, resources: Resource[], opts: ApplyOptions): Promise<Change[]> {
  const ordered = [...resources].sort((a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind))
  const changes = await planChanges(host, ordered)
  const conflicts = changes.filter((c) => c.action === 'conflict')
  if (conflicts.length)
    throw new XoaError(
      `nothing was changed: ${conflicts.map((c) => `${c.id}: ${c.details.join(', ')}`).join('; ')}`,
      { hint: 'move the conflicting path away, then run `xoa apply` again' },
    )
  const pending = changes.filter((c) => c.action === 'create' || c.action === 'change')
  if (!host.live && pending.some((c) => c.resource.kind === 'group' || c.resource.kind === 'user')) {
    const lacks = prefixLacks(host.root)
    if (lacks.length)
      throw new XoaError(
        `nothing was changed: --root ${host.root} is not a system image: it lacks ${lacks.join(', ')}`,
        {
          hint: `apply --root edits the target's account databases: copy etc/passwd, etc/group (and etc/shadow, etc/gshadow) of the image into ${host.root}, then run it again`,
        },
      )
  }
  const installed = await installPackages(host, pending, opts)
  for (const c of pending) if (c.resource.kind === 'package') opts.onChange?.(c)
  const seeds = new Map<string, string>()
  for (const c of pending)
    if (c.resource.kind === 'seed' && c.action === 'create') seeds.set(c.resource.path, c.resource.generate())
  await validateAll(pending, ordered, seeds, opts, installed)

  for (const c of pending) {
    if (c.resource.kind === 'group' || c.resource.kind === 'user') {
      await runAccountStep(host, c)
      opts.onChange?.(c)
    }
  }
  const accounts = readAccounts(host.root)
  const root = await openTarget(host)
  try {
    for (const c of pending) if (await writeStep(root, c, accounts, seeds)) opts.onChange?.(c)
  } finally {
    await root.close()
  }
  await runUnitSteps(host, pending, opts.onChange)
  return changes
}

/** One path resource, through the safe layer (invariant 7): its parents are walked beneath the target's root
 *  without following an undeclared symlink, its owner and mode set on the checked inode. */
async function writeStep(
  root: SafeDir,
  c: Change,
  accounts: Accounts,
  seeds: Map<string, string>,
): Promise<boolean> {
  const r = c.resource
  if (r.kind === 'dir') {
    const own = ownership(accounts, c, r.owner, r.group, r.mode)
    await atTarget(root, r.path, ({ dir, name }) => dir.ensureDir(name, own))
  } else if (r.kind === 'file') {
    const own = ownership(accounts, c, r.file.owner, r.file.group, r.file.mode)
    const { content } = r.file
    await atTarget(root, r.file.path, ({ dir, name }) =>
      c.rewrite ? dir.writeFile(name, content, own) : dir.setMeta(name, own),
    )
  } else if (r.kind === 'seed') {
    const own = ownership(accounts, c, r.owner, r.group, r.mode)
    const generated = seeds.get(r.path)
    // An existing seed only gets its owner and mode fixed: refused when hard-linked (finding 6).
    await atTarget(root, r.path, ({ dir, name }) =>
      generated !== undefined ? dir.writeFile(name, generated, own) : dir.setMeta(name, own),
    )
  } else if (r.kind === 'symlink') {
    const { target } = r
    await atTarget(root, r.path, ({ dir, name }) => dir.symlink(name, target))
  } else return false
  return true
}

/** Every file this run writes passes its validator, or nothing is written at all. */
async function validateAll(
  pending: Change[],
  all: Resource[],
  seeds: Map<string, string>,
  opts: ApplyOptions,
  installed: string[],
): Promise<void> {
  const units: Candidate[] = all.flatMap((r) =>
    r.kind === 'file' && r.file.validate === 'systemd-unit' ? [r.file] : [],
  )
  const cands: Candidate[] = []
  for (const c of pending) {
    const r = c.resource
    if (r.kind === 'file' && c.rewrite) cands.push(r.file)
    if (r.kind === 'seed' && seeds.has(r.path))
      cands.push({ path: r.path, content: seeds.get(r.path) ?? '', validate: r.validate })
  }
  const problems = await validateCandidates(cands, { units, providedLater: opts.providedLater })
  const failures = [...problems].map(([path, problem]) => `${path}: ${problem}`)
  // The packages went in first (they carry the validators); nothing else of the run has been touched.
  const done = installed.length
    ? `the packages ${installed.join(' ')} were installed (the validators need them); nothing else was installed`
    : 'nothing was installed'
  if (failures.length)
    throw new XoaError(`validation failed, ${done}:\n  ${failures.join('\n  ')}`, {
      hint: 'fix the spec (or report a bug if the file is xoa-generated), then run `xoa plan`',
    })
}

function ownership(accounts: Accounts, c: Change, owner: string, group: string, mode: number): Meta {
  const uid = uidOf(accounts, owner)
  const gid = gidOf(accounts, group)
  if (uid === undefined || gid === undefined)
    throw new XoaError(`${c.id}: ${uid === undefined ? `user ${owner}` : `group ${group}`} does not exist`, {
      hint: 'declare the account in the spec, or create it, then run `xoa apply` again',
    })
  return { uid, gid, mode }
}

function rootArgs(host: Host): string[] {
  return host.live ? [] : ['--root', host.root]
}

async function run(c: Change, cmd: ToolName, args: string[]): Promise<void> {
  const r = await execa(tool(cmd), args, { reject: false, all: true, env: { LC_ALL: 'C', ...toolEnv() } })
  if (notFound(r)) throw missingTool(cmd, c.id)
  if (r.exitCode !== 0)
    throw new XoaError(`${c.id}: ${cmd} failed (exit ${r.exitCode}): ${(r.all ?? '').trim()}`, {
      hint: 'fix the cause above, then run `xoa apply` again (what already changed stays changed)',
    })
}

async function runAccountStep(host: Host, c: Change): Promise<void> {
  const r = c.resource
  if (r.kind === 'group') {
    const gid = r.gid ? ['--gid', String(r.gid.id)] : []
    await run(c, 'groupadd', [...rootArgs(host), ...(r.system ? ['--system'] : []), ...gid, r.name])
    return
  }
  if (r.kind !== 'user') return
  const common = ['--gid', r.group, '--groups', r.groups.join(','), '--shell', r.shell]
  if (c.action === 'create') {
    // No --password: useradd leaves "!" in shadow, so the account has no password that can ever match.
    await run(c, 'useradd', [
      ...rootArgs(host),
      ...(r.system ? ['--system'] : []),
      ...(r.uid ? ['--uid', String(r.uid.id)] : []),
      ...common,
      '--home-dir',
      r.home,
      r.createHome ? '--create-home' : '--no-create-home',
      '--comment',
      r.comment,
      r.name,
    ])
  } else {
    await run(c, 'usermod', [...rootArgs(host), ...common, '--home', r.home, '--lock', r.name])
  }
}

/** Install the pending packages (live host only), masking their stock units first; returns what went in. */
async function installPackages(host: Host, pending: Change[], opts: ApplyOptions): Promise<string[]> {
  const names = pending.flatMap((c) => (c.resource.kind === 'package' ? [c.resource.name] : []))
  if (names.length === 0 || !host.live) return []
  const masked = await maskStockUnits(host, stockUnitsFor(names))
  const env = { DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C', ...toolEnv() }
  const install = () =>
    execa(tool('apt-get'), ['install', '-y', '-q', '--no-install-recommends', ...names], {
      reject: false,
      all: true,
      env,
    })
  let r = await install()
  if (notFound(r)) throw missingTool('apt-get', `packages ${names.join(' ')}`)
  if (r.exitCode !== 0) {
    // Stale package lists are the usual cause on a fresh machine.
    await execa(tool('apt-get'), ['update', '-q'], { reject: false, env })
    r = await install()
  }
  if (r.exitCode !== 0)
    throw new XoaError(
      `packages ${names.join(' ')}: apt-get install failed:\n${(r.all ?? '').trim().split('\n').slice(-5).join('\n')}`,
      {
        hint: `run \`apt-get install ${names.join(' ')}\` yourself to see why, then \`xoa apply\` again`,
      },
    )
  if (opts.maskRecord) await recordMasked(host, opts.maskRecord, masked)
  return names
}
