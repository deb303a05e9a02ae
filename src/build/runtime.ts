// The private Node and yarn a build uses, installed through `npm` itself (so the machine's registry and proxy
// settings apply) into the runtimes dir, once per version, and reused. The host's own Node is untouched.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { execa } from 'execa'
import { XoaError } from '../util/errors.ts'

export const YARN_VERSION = '1.22.22'

export interface Runtime {
  /** e.g. 22.23.3 */
  nodeVersion: string
  /** Directory with bin/node; what <release>/node links to. */
  nodeDir: string
  yarnVersion: string
  /** Directory with bin/yarn. */
  yarnDir: string
}

export function nodePackageName(arch = process.arch): string {
  const a = { x64: 'x64', arm64: 'arm64' }[arch as 'x64' | 'arm64']
  if (!a)
    throw new XoaError(`no Node build for this CPU (${arch})`, { hint: 'xoa supports x86_64 and arm64' })
  return `node-linux-${a}`
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number)
  const pb = b.split('.').map(Number)
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0)
  return 0
}

/** The newest installed Node of that major, without touching the network. */
export function findNode(runtimesDir: string, major: number): { version: string; dir: string } | undefined {
  if (!existsSync(runtimesDir)) return undefined
  const versions = readdirSync(runtimesDir)
    .map((n) => /^node-(\d+\.\d+\.\d+)$/.exec(n)?.[1])
    .filter((v): v is string => v !== undefined && v.split('.')[0] === String(major))
    .filter((v) => existsSync(join(runtimesDir, `node-${v}`, 'bin', 'node')))
    .sort(compareVersions)
  const version = versions.at(-1)
  return version ? { version, dir: join(runtimesDir, `node-${version}`) } : undefined
}

export function findYarn(runtimesDir: string, version = YARN_VERSION): string | undefined {
  const dir = join(runtimesDir, `yarn-${version}`)
  return existsSync(join(dir, 'bin', 'yarn.js')) ? dir : undefined
}

/** npm-install one package into a private temp prefix, then move the package dir into place by rename. */
async function npmProvision(
  runtimesDir: string,
  spec: string,
  pkgName: string,
  dirName: (version: string) => string,
  log: (line: string) => void,
  env: Record<string, string>,
): Promise<string> {
  mkdirSync(runtimesDir, { recursive: true })
  const tmp = join(runtimesDir, `.tmp-${process.pid}-${Date.now()}`)
  try {
    log(`$ npm install --prefix ${tmp} ${spec}`)
    const r = await execa(
      'npm',
      ['install', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--prefix', tmp, spec],
      // cwd: no project .npmrc of wherever xoa was started from; the yarn steps get the same settings.
      { all: true, reject: false, cwd: runtimesDir, env },
    )
    for (const line of (r.all ?? '').split('\n')) if (line) log(line)
    if (r.exitCode !== 0)
      throw new XoaError(`npm could not install ${spec} (exit ${r.exitCode})`, {
        hint: 'check `npm config get registry` and the proxy settings, then run xoa build again',
      })
    const pkgDir = join(tmp, 'node_modules', pkgName)
    const { version } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string }
    const dest = join(runtimesDir, dirName(version))
    // Code, no secrets: the service account runs this Node (the build's yarn steps and xo-server itself),
    // whatever umask npm ran under.
    await execa('chmod', ['-R', 'u+rwX,go+rX,go-w', pkgDir])
    try {
      renameSync(pkgDir, dest)
    } catch (e) {
      // Another build (or test) provisioned the same version meanwhile: use theirs.
      const code = (e as NodeJS.ErrnoException).code
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e
    }
    return version
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
}

/**
 * A Node the system provides instead ($XOA_NODE, a path to its bin/node): on NixOS the registry's prebuilt
 * binaries do not run, so the module passes nixpkgs' Node. It must be of the major the source needs.
 */
export function systemNode(major: number): { version: string; dir: string } | undefined {
  const bin = process.env.XOA_NODE
  if (!bin) return undefined
  let version: string
  try {
    version = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim().replace(/^v/, '')
  } catch (e) {
    throw new XoaError(`XOA_NODE=${bin} does not run: ${(e as Error).message}`, {
      hint: 'point XOA_NODE at a bin/node',
    })
  }
  if (version.split('.')[0] !== String(major))
    throw new XoaError(`XOA_NODE is Node ${version}, but this XO revision needs Node ${major}`, {
      hint: `point XOA_NODE at a Node ${major}, or unset it to let xoa provision one`,
    })
  return { version, dir: dirname(dirname(bin)) }
}

/** The Node a build of `major` uses, if it is already here: $XOA_NODE, else one xoa provisioned. */
export function findBuildNode(
  runtimesDir: string,
  major: number,
): { version: string; dir: string } | undefined {
  return systemNode(major) ?? findNode(runtimesDir, major)
}

/** Node `major` and yarn, reused when present, else installed. */
export async function provisionRuntime(
  runtimesDir: string,
  major: number,
  log: (line: string) => void,
  /** Environment for npm (see npmEnv). */
  env: Record<string, string> = {},
): Promise<Runtime> {
  let node = findBuildNode(runtimesDir, major)
  if (!node) {
    const pkg = nodePackageName()
    await npmProvision(runtimesDir, `${pkg}@${major}`, pkg, (v) => `node-${v}`, log, env)
    node = findNode(runtimesDir, major)
    if (!node) throw new XoaError(`npm installed ${pkg}@${major} but it has no bin/node`)
  }
  let yarnDir = findYarn(runtimesDir)
  if (!yarnDir) {
    await npmProvision(runtimesDir, `yarn@${YARN_VERSION}`, 'yarn', (v) => `yarn-${v}`, log, env)
    yarnDir = findYarn(runtimesDir)
    if (!yarnDir) throw new XoaError(`npm installed yarn@${YARN_VERSION} but it has no bin/yarn.js`)
  }
  return { nodeVersion: node.version, nodeDir: node.dir, yarnVersion: YARN_VERSION, yarnDir }
}

/** Remove temp dirs of provisioning runs whose process is gone. */
export function cleanRuntimeDebris(runtimesDir: string): void {
  if (!existsSync(runtimesDir)) return
  for (const n of readdirSync(runtimesDir)) {
    const pid = /^\.tmp-(\d+)-/.exec(n)?.[1]
    if (pid && !pidAlive(Number(pid))) rmSync(join(runtimesDir, n), { recursive: true, force: true })
  }
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}
