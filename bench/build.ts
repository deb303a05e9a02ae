// Benchmark of `xoa build` (not a test): run with `npx tsx bench/build.ts` after `npm run bundle`.
// Side by side, in one run, on the same source:
//   cold `xoa build` vs bare clone + `yarn install --frozen-lockfile` + the same build command (ratio, ≤ 1.05)
//   no-op `xoa build` (≤ 1 s) · update to a newer rev with warm caches vs cold (≤ 0.5)
//   peak memory of the whole build process tree · a build inside a 2 GiB memory cgroup (must succeed)
// Source: the generated fixture (default), or real XO: XO_SOURCE_URL=<git url> XO_SOURCE_REV=<commit>
// XO_SOURCE_REV2=<newer commit> (both must install with --frozen-lockfile against your registry).
// XOA_RUNTIME_CACHE shares the provisioned Node with the tests. XOA_BENCH_SKIP=cgroup,bare skips parts.
import { spawn, spawnSync } from 'node:child_process'
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'

const cpus = availableParallelism()

import { join, resolve } from 'node:path'
import { buildCommand } from '../src/build/script.ts'
import { createFixture, newRevision } from '../test/fixtures/monorepo.ts'

const XOA = resolve(import.meta.dirname, '..', 'dist', 'xoa.mjs')
const work = mkdtempSync(join(process.env.XOA_BENCH_DIR ?? tmpdir(), 'xoa-bench-'))
chmodSync(work, 0o755)
const runtimes = process.env.XOA_RUNTIME_CACHE || join(tmpdir(), 'xoa-test-runtimes')
const skip = new Set((process.env.XOA_BENCH_SKIP ?? '').split(','))
const env = { ...process.env, XOA_RUNTIME_CACHE: runtimes, NO_COLOR: '1' }

let url = process.env.XO_SOURCE_URL
let rev1 = process.env.XO_SOURCE_REV
let rev2 = process.env.XO_SOURCE_REV2
if (!url) {
  url = join(work, 'fixture')
  rev1 = createFixture(url)
  rev2 = newRevision(url, { stamp: 'newer' }, 'feat: release 1.1.0')
}
if (!rev1 || !rev2) throw new Error('set XO_SOURCE_REV and XO_SOURCE_REV2 with XO_SOURCE_URL')
console.log(`source ${url}\n  rev1 ${rev1}\n  rev2 ${rev2}\nwork dir ${work}`)

function specFor(name: string, rev: string): string {
  const file = join(work, `${name}.json`)
  // As root, xoa runs install and build as the service account: use one that exists everywhere.
  const service = {
    user: process.env.XOA_BENCH_USER ?? 'nobody',
    group: process.env.XOA_BENCH_GROUP ?? 'nogroup',
  }
  writeFileSync(file, JSON.stringify({ xo: { stateDir: join(work, name) }, source: { url, rev }, service }))
  return file
}

interface Timed {
  ms: number
  status: number
  peakTreeMb: number
  peakProcMb: number
  out: string
}

/** Run a command, sampling the RSS of its whole process tree from /proc every 250 ms. */
function timed(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Timed> {
  return new Promise((done) => {
    const t0 = process.hrtime.bigint()
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? env, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    let peakTree = 0
    let peakProc = 0
    const sample = setInterval(() => {
      const rss = treeRss(child.pid!)
      peakTree = Math.max(
        peakTree,
        rss.reduce((a, b) => a + b, 0),
      )
      peakProc = Math.max(peakProc, ...rss)
    }, 250)
    child.on('close', (code) => {
      clearInterval(sample)
      const ms = Number(process.hrtime.bigint() - t0) / 1e6
      done({ ms, status: code ?? -1, peakTreeMb: peakTree / 1024, peakProcMb: peakProc / 1024, out })
    })
  })
}

function treeRss(root: number): number[] {
  const children = new Map<number, number[]>()
  const rss = new Map<number, number>()
  for (const pid of readDir('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number)) {
    const status = readText(`/proc/${pid}/status`)
    const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1] ?? 0)
    rss.set(pid, Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0))
    children.set(ppid, [...(children.get(ppid) ?? []), pid])
  }
  const out: number[] = []
  const stack = [root]
  while (stack.length) {
    const p = stack.pop()!
    out.push(rss.get(p) ?? 0)
    stack.push(...(children.get(p) ?? []))
  }
  return out
}
function readDir(d: string): string[] {
  try {
    return readdirSync(d)
  } catch {
    return []
  }
}
function readText(f: string): string {
  try {
    return readFileSync(f, 'utf8')
  } catch {
    return ''
  }
}

const xoa = (spec: string, ...args: string[]) =>
  timed(process.execPath, [XOA, 'build', '--spec', spec, ...args])
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`
function must(r: Timed, what: string): Timed {
  if (r.status !== 0) {
    console.error(`${what} failed (exit ${r.status}):\n${r.out.split('\n').slice(-45).join('\n')}`)
    process.exit(1)
  }
  return r
}

// Provision Node and yarn once, outside the timings (the bare build uses the same runtime).
const warmSpec = specFor('warmup', rev1)
must(await xoa(warmSpec, '--no-switch'), 'warm-up (runtime provisioning)')
const manifest = JSON.parse(
  spawnSync('node', [XOA, 'releases', '--spec', warmSpec, '--json'], { encoding: 'utf8', env }).stdout,
)[0]
const nodeBin = join(runtimes, `node-${manifest.node}`, 'bin')
const yarnBin = join(runtimes, `yarn-${manifest.yarn}`, 'bin')
rmSync(join(work, 'warmup'), { recursive: true, force: true })

const results: Record<string, string> = {}
/** Print each figure as soon as it is known: a long real-XO run is still useful when stopped early. */
const record = (k: string, v: string) => {
  results[k] = v
  console.log(`  ${k.padEnd(46)} ${v}`)
}

let bare: Timed | undefined
if (!skip.has('bare')) {
  const dir = join(work, 'bare')
  const bareEnv = {
    ...env,
    PATH: `${join(dir, 'node_modules', '.bin')}:${nodeBin}:${yarnBin}:${process.env.PATH}`,
    HUSKY: '0',
    YARN_CACHE_FOLDER: join(work, 'bare-yarn-cache'),
    TURBO_TELEMETRY_DISABLED: '1',
  }
  const t0 = Date.now()
  must(await timed('git', ['clone', '--quiet', url, dir]), 'bare clone')
  must(await timed('git', ['-C', dir, 'checkout', '--quiet', '--detach', rev1]), 'bare checkout')
  const scripts = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).scripts
  const cmd = buildCommand(scripts, { docs: false, jobs: manifest.jobs })
  const script = `yarn install --frozen-lockfile && ${cmd}`
  console.log(`bare: ${script}`)
  const r = must(await timed('sh', ['-c', script], { cwd: dir, env: bareEnv }), 'bare build')
  bare = { ...r, ms: Date.now() - t0 }
  record('bare clone+install+build', s(bare.ms))
}

const cold = must(await xoa(specFor('a', rev1)), 'cold xoa build')
record('cold xoa build', s(cold.ms))
if (bare) record('ratio cold xoa / bare (target ≤ 1.05)', (cold.ms / bare.ms).toFixed(3))
record(
  'peak RSS, whole build tree',
  `${Math.round(cold.peakTreeMb)} MB (largest process ${Math.round(cold.peakProcMb)} MB)`,
)

const noops = [] as number[]
for (let i = 0; i < 3; i++) noops.push(must(await xoa(join(work, 'a.json')), 'no-op').ms)
record('no-op xoa build, median of 3 (target ≤ 1 s)', s(noops.sort((a, b) => a - b)[1]!))

const warm = must(await xoa(join(work, 'a.json'), '--rev', rev2), 'update build, warm caches')
const coldUpdate = must(await xoa(specFor('b', rev2)), 'update build, cold caches')
record('update build warm', s(warm.ms))
record('update build cold', s(coldUpdate.ms))
record('ratio warm / cold update (target ≤ 0.5)', (warm.ms / coldUpdate.ms).toFixed(3))

if (!skip.has('cgroup')) {
  const cg = `/sys/fs/cgroup/memory/xoa-bench-${process.pid}`
  if (!existsSync('/sys/fs/cgroup/memory')) record('2 GiB cgroup', 'skipped: no cgroup v1 memory controller')
  else {
    mkdirSync(cg)
    writeFileSync(join(cg, 'memory.limit_in_bytes'), String(2 * 1024 ** 3))
    // Warm yarn cache (hard links), so this measures the build's memory rather than the download again.
    mkdirSync(join(work, 'c', 'cache'), { recursive: true })
    cpSync(join(work, 'a', 'cache', 'yarn'), join(work, 'c', 'cache', 'yarn'), { recursive: true })
    const spec = specFor('c', rev1)
    const r = await timed(
      'sh',
      [
        '-c',
        `echo $$ > ${cg}/cgroup.procs && exec "$0" "$@"`,
        process.execPath,
        XOA,
        'build',
        '--spec',
        spec,
      ],
      {},
    )
    const max = Number(readText(join(cg, 'memory.max_usage_in_bytes'))) / 1024 ** 2
    const fails = readText(join(cg, 'memory.failcnt')).trim()
    const m = JSON.parse(
      spawnSync('node', [XOA, 'releases', '--spec', spec, '--json'], { encoding: 'utf8', env }).stdout,
    )[0]
    record(
      '2 GiB cgroup build',
      r.status === 0
        ? `ok in ${s(r.ms)}, ${m.jobs} task(s), heap ${m.heapMb} MB, cgroup max usage ${Math.round(max)} MB, failcnt ${fails}`
        : `FAILED (exit ${r.status}):\n${r.out.split('\n').slice(-20).join('\n')}`,
    )
    if (r.status !== 0) process.exitCode = 1
    spawnSync('rmdir', [cg])
  }
}

console.log(
  `\nresults (load average ${readText('/proc/loadavg').split(' ').slice(0, 3).join(' ')}, ${cpus} CPUs)`,
)
for (const [k, v] of Object.entries(results)) console.log(`  ${k.padEnd(46)} ${v}`)
if (!process.env.XOA_BENCH_KEEP) rmSync(work, { recursive: true, force: true })
