// `xoa build`: from the spec's source to a complete release in the store, and by default made current.
// The no-op path (key unchanged, release present) reads a few small files and runs nothing: no git, no network.
import { existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { execa } from 'execa'
import { self, withParent } from '../fs/at.ts'
import { GitMirror } from '../source/mirror.ts'
import { findPinFile, type Pin, readPin, sourceRef } from '../source/pin.ts'
import { statePaths } from '../spec/paths.ts'
import type { Spec } from '../spec/schema.ts'
import { XoaError } from '../util/errors.ts'
import { type BuildAccount, buildAccount, handTo, openPathTo, sealRelease } from './account.ts'
import { BUILDER_VERSION, buildKey, releaseId } from './key.ts'
import { machineNpmSettings, npmEnv, unsetNpmEnv, writeYarnConfig } from './npm-config.ts'
import type { Progress } from './progress.ts'
import { availableMemoryMb, chooseResources, cpuCount } from './resources.ts'
import { cachedRevInfo, type RevInfo, revInfo, versionOf } from './rev-info.ts'
import {
  cleanRuntimeDebris,
  findBuildNode,
  findYarn,
  provisionRuntime,
  type Runtime,
  YARN_VERSION,
} from './runtime.ts'
import { buildCommand } from './script.ts'
import { mountNosuid, stripSetid } from './setid.ts'
import {
  currentId,
  listReleases,
  lockStore,
  type Manifest,
  readManifest,
  releasesToPrune,
  removeDebris,
  removeRelease,
  type StatePaths,
  switchTo,
} from './store.ts'

export interface BuildOptions {
  rev?: string
  switch: boolean
}

export type BuildResult =
  | { status: 'up-to-date'; release: string; switched: boolean }
  | { status: 'built'; release: string; switched: boolean; manifest: Manifest; pruned: string[] }

/** Tests and CI share one provisioned Node across runs through this; otherwise it lives in the state dir. */
export function runtimesDir(paths: StatePaths): string {
  return process.env.XOA_RUNTIME_CACHE || paths.runtimes
}

function keyOf(spec: Spec, url: string, info: RevInfo, rt: Pick<Runtime, 'nodeVersion' | 'yarnVersion'>) {
  return buildKey({
    url,
    rev: info.rev,
    lockHash: info.lockHash,
    node: rt.nodeVersion,
    yarn: rt.yarnVersion,
    docs: spec.build.docs,
    jobs: spec.build.jobs,
    heapMb: spec.build.heapMb,
  })
}

/** The release id if everything needed to know it is on disk already, else undefined. */
function knownRelease(spec: Spec, paths: StatePaths, url: string, rev: string, pin: Pin) {
  if (!/^[0-9a-f]{40}$/.test(rev)) return undefined
  const info = cachedRevInfo(paths.cache, rev)
  if (!info) return undefined
  const node = findBuildNode(runtimesDir(paths), info.nodeMajor)
  if (!node || !findYarn(runtimesDir(paths))) return undefined
  const key = keyOf(spec, url, info, { nodeVersion: node.version, yarnVersion: YARN_VERSION })
  const id = releaseId(versionOf(info, pin), rev, key)
  return readManifest(join(paths.releases, id)) ? id : undefined
}

async function upToDate(paths: StatePaths, id: string, doSwitch: boolean): Promise<BuildResult> {
  let switched = false
  if (doSwitch && currentId(paths) !== id) {
    const lock = await lockStore(paths)
    try {
      switched = (await switchTo(paths, id)).from !== id
    } finally {
      await lock.release()
    }
  }
  return { status: 'up-to-date', release: id, switched }
}

export async function build(spec: Spec, opts: BuildOptions, progress: Progress): Promise<BuildResult> {
  const paths = statePaths(spec)
  const pin = readPin(findPinFile(spec))
  const { url, rev } = sourceRef(spec, pin, opts.rev)
  const known = knownRelease(spec, paths, url, rev, pin)
  if (known) return upToDate(paths, known, opts.switch)

  const lock = await lockStore(paths)
  try {
    const debris = await removeDebris(paths)
    cleanRuntimeDebris(runtimesDir(paths))
    if (debris.length) progress.log(`removed what an interrupted build left: ${debris.join(', ')}`)
    const log = (l: string) => progress.log(l)
    const mirror = new GitMirror(paths.mirror, log)

    const fullRev = await progress.step(
      'fetch',
      async () => {
        await mirror.ensure(url)
        if (!(/^[0-9a-f]{40}$/.test(rev) && (await mirror.hasCommit(rev)))) await mirror.fetch(rev)
        return mirror.resolve(rev).catch(() => {
          throw new XoaError(`${url} has no commit ${rev}`, {
            hint: 'check source.rev / --rev (a commit id) and source.url in the spec',
          })
        })
      },
      url,
    )
    const info = await progress.step('inspect', () => revInfo(mirror, paths.cache, fullRev), fullRev)
    const npm = npmEnv(log, process.env, join(paths.cache, 'npm'))
    const runtime = await progress.step(
      'runtime',
      () => provisionRuntime(runtimesDir(paths), info.nodeMajor, log, npm),
      `node ${info.nodeMajor}, yarn ${YARN_VERSION}`,
    )
    const key = keyOf(spec, url, info, runtime)
    const id = releaseId(versionOf(info, pin), fullRev, key)
    if (readManifest(join(paths.releases, id))) {
      await lock.release()
      return await upToDate(paths, id, opts.switch)
    }
    const tmp = join(paths.releases, `.tmp-${id}-${process.pid}`)
    const manifest = await buildRelease(
      spec,
      paths,
      tmp,
      { url, info, pin, runtime, key, id, npm },
      mirror,
      progress,
    ).catch(async (e) => {
      // The log keeps what happened; a half-built tree is of no use (and was the build account's: nothing
      // inside it is followed).
      await withParent(tmp, {}, (dir, name) => dir.removeTree(name))
      throw e
    })

    let switched = false
    if (opts.switch) switched = (await switchTo(paths, id)).from !== id
    const pruned = releasesToPrune(listReleases(paths), spec.build.keep).map((r) => r.id)
    for (const p of pruned) await removeRelease(paths, p)
    return { status: 'built', release: id, switched, manifest, pruned }
  } finally {
    await lock.release()
  }
}

interface Plan {
  url: string
  info: RevInfo
  pin: Pin
  runtime: Runtime
  key: string
  id: string
  /** Environment for the machine's npm (npmEnv). */
  npm: Record<string, string>
}

async function buildRelease(
  spec: Spec,
  paths: StatePaths,
  tmp: string,
  plan: Plan,
  mirror: GitMirror,
  progress: Progress,
): Promise<Manifest> {
  const startedAt = new Date()
  const xo = join(tmp, 'xo')
  mkdirSync(tmp, { recursive: true })
  const res = chooseResources(availableMemoryMb(), cpuCount(), spec.build)
  progress.log(`memory available ${res.availableMb} MB → ${res.jobs} task(s), heap ${res.heapMb} MB`)

  await progress.step('checkout', () => mirror.checkout(plan.info.rev, xo, plan.url), plan.info.rev)
  symlinkSync(plan.runtime.nodeDir, join(tmp, 'node'))
  const account = await buildAccount(spec, (l) => progress.log(l))
  const caches = ['yarn', 'turbo', 'home'].map((d) => join(paths.cache, d))
  for (const d of caches) mkdirSync(d, { recursive: true })
  openPathTo(account, [
    ...new Set([paths.state, paths.store]),
    paths.releases,
    paths.cache,
    runtimesDir(paths),
  ])
  // The whole temp release (under a umask of 0027 root's dirs would shut the account out); sealed after.
  await handTo(account, [tmp, ...caches])
  if (account) progress.log(`install and build run as ${spec.service.user}, not root`)
  if (await mountNosuid(paths.releases)) progress.log(`${paths.releases} is mounted nosuid for this build`)
  // yarn gets what the machine's npm uses (asked now, as root, before the steps run as the account).
  const npmSettings = await machineNpmSettings(runtimesDir(paths), plan.npm)
  const yarnConfig = writeYarnConfig(join(paths.cache, 'home'), npmSettings, account)
  progress.log(
    `yarn uses the machine's npm settings: registry ${(npmSettings.registry ?? '(default)').replace(/\/\/[^/@]*@/, '//')}` +
      `${npmSettings.ca ? ', its CA file' : ''}${yarnConfig.env.HTTPS_PROXY || yarnConfig.env.https_proxy ? ', a proxy' : ''}`,
  )
  try {
    return await runSteps(spec, paths, tmp, plan, progress, account, res, yarnConfig.env, startedAt)
  } finally {
    yarnConfig.remove()
  }
}

async function runSteps(
  spec: Spec,
  paths: StatePaths,
  tmp: string,
  plan: Plan,
  progress: Progress,
  account: BuildAccount | undefined,
  res: ReturnType<typeof chooseResources>,
  netEnv: Record<string, string>,
  startedAt: Date,
): Promise<Manifest> {
  const xo = join(tmp, 'xo')

  const env = {
    PATH: [
      join(xo, 'node_modules', '.bin'),
      join(plan.runtime.nodeDir, 'bin'),
      join(plan.runtime.yarnDir, 'bin'),
    ]
      .concat(process.env.PATH ?? '/usr/bin:/bin')
      .join(':'),
    HOME: join(paths.cache, 'home'),
    HUSKY: '0',
    YARN_CACHE_FOLDER: join(paths.cache, 'yarn'),
    TURBO_CACHE_DIR: join(paths.cache, 'turbo'),
    TURBO_TELEMETRY_DISABLED: '1',
    DO_NOT_TRACK: '1',
    NODE_OPTIONS: `--max-old-space-size=${res.heapMb}`,
    // Never let a build prompt or pick up the host's own Node through nvm-like shims.
    CI: '1',
    // The machine's npm settings reach yarn through its own npmrc, not through root's environment.
    ...unsetNpmEnv(process.env),
    ...netEnv,
  }
  const run = (name: string, file: string, args: string[], detail?: string) =>
    progress.step(name, () => runLogged(file, args, xo, env, progress, account), detail)

  const yarn = join(plan.runtime.yarnDir, 'bin', 'yarn.js')
  const node = join(plan.runtime.nodeDir, 'bin', 'node')
  await run('install', node, [
    yarn,
    'install',
    '--frozen-lockfile',
    '--non-interactive',
    '--network-timeout',
    '600000',
  ])
  const rootPkg = JSON.parse(readFileSync(join(xo, 'package.json'), 'utf8')) as {
    scripts?: Record<string, string>
  }
  const command = buildCommand(rootPkg.scripts, { docs: spec.build.docs, jobs: res.jobs })
  await run('build', '/bin/sh', ['-c', command], `${res.jobs} task(s), heap ${res.heapMb} MB`)

  return progress.step('finish', async () => {
    await sealRelease(account, tmp)
    const stripped = await stripSetid(tmp)
    if (stripped.length)
      progress.log(`cleared setuid/setgid bits of ${stripped.length} path(s) in the release`)
    const du = await execa('du', ['-sb', tmp])
    const endedAt = new Date()
    const manifest: Manifest = {
      id: plan.id,
      version: versionOf(plan.info, plan.pin),
      rev: plan.info.rev,
      url: plan.url,
      buildKey: plan.key,
      node: plan.runtime.nodeVersion,
      yarn: plan.runtime.yarnVersion,
      docs: spec.build.docs,
      jobs: res.jobs,
      heapMb: res.heapMb,
      builder: BUILDER_VERSION,
      startedAt: startedAt.toISOString(),
      endedAt: endedAt.toISOString(),
      durationMs: endedAt.getTime() - startedAt.getTime(),
      sizeBytes: Number(du.stdout.split('\t')[0]),
    }
    // The manifest is what makes a release complete; it goes in last, then the whole dir moves into place.
    await withParent(tmp, {}, async (releases, name) => {
      const dir = await releases.subdir(name)
      try {
        await dir.writeFile('manifest.json', `${JSON.stringify(manifest, null, 2)}\n`, self(0o644))
      } finally {
        await dir.close()
      }
      await releases.rename(name, releases, plan.id)
    })
    return manifest
  })
}

async function runLogged(
  file: string,
  args: string[],
  cwd: string,
  env: Record<string, string>,
  progress: Progress,
  account?: BuildAccount,
): Promise<void> {
  progress.log(`$ ${[file, ...args].join(' ')}`)
  const child = execa(file, args, {
    cwd,
    env,
    all: true,
    buffer: false,
    reject: false,
    stdin: 'ignore',
    uid: account?.uid,
    gid: account?.gid,
  })
  for await (const line of child.iterable({ from: 'all' })) progress.log(String(line))
  const r = await child
  if (r.exitCode === undefined && !r.signal) throw new Error(`could not start: ${r.shortMessage}`)
  if (r.exitCode !== 0)
    throw new Error(
      r.signal
        ? `killed by ${r.signal}${r.signal === 'SIGKILL' ? ' (out of memory?)' : ''}`
        : `exit code ${r.exitCode}`,
    )
}

export function nextHint(step: string, logFile: string, hasCurrent: boolean): string {
  const kept = hasCurrent ? 'the current release is untouched; ' : ''
  const what: Record<string, string> = {
    fetch: 'check source.url and source.rev in the spec and that git can reach the URL',
    runtime: 'check that `npm install` works on this machine (registry, proxy)',
    install: 'check the registry/proxy for yarn; the log names the package that failed',
    build: 'read the log; with little memory set build.jobs = 1 and build.heapMb in the spec',
  }
  return `${kept}${what[step] ?? 'read the log'}; full log: ${logFile}; then run \`xoa build\` again`
}

export function hasCurrent(spec: Spec): boolean {
  return existsSync(statePaths(spec).current)
}
