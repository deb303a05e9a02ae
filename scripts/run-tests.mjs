// Runs every test/**/*.test.ts with Node's own test runner (Node 20 has no glob for --test).
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

function find(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name)
    if (e.isDirectory()) return e.name === 'fixtures' ? [] : find(p)
    return e.name.endsWith('.test.ts') ? [p] : []
  })
}

const only = process.argv.slice(2)
const files = only.length > 0 ? only : find('test').sort()
// The run's own temp dir (TMPDIR for every test): a server left running in it is this run's, not another
// run's on the same machine (redis-server rewrites its environment, so no variable could tell).
const runTmp = mkdtempSync(join(tmpdir(), 'xoa-test-run-'))
chmodSync(runTmp, 0o1777) // as /tmp is: builds and attacks run as other accounts and write temp files
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files], {
  stdio: 'inherit',
  env: { ...process.env, TMPDIR: runTmp },
})

/**
 * redis-server processes working in a dir under this run's temp dir: a test's own, left running. Found by
 * their working directory (`--dir` chdirs there; "(deleted)" once the test removed it) or a temp path on
 * their command line.
 */
function leftoverRedis(tmp) {
  const out = []
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim()
      if (comm !== 'redis-server') continue
      const cwd = readlinkSync(`/proc/${pid}/cwd`)
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')
      if (!cwd.startsWith(`${tmp}/`) && !cmd.includes(` ${tmp}/`) && !cmd.includes(`:${tmp}/`)) continue
      out.push({ pid: Number(pid), what: `${pid} (cwd ${cwd}): ${cmd}` })
    } catch {}
  }
  return out
}

const leaked = leftoverRedis(runTmp)
// XOA_NSPAWN_KEEP=1 keeps each container's dir for a post-mortem; those dirs are under this run's temp dir.
if (process.env.XOA_NSPAWN_KEEP === '1') console.error(`\nkept ${runTmp} (XOA_NSPAWN_KEEP=1)`)
else rmSync(runTmp, { recursive: true, force: true })
if (leaked.length > 0) {
  const list = leaked.map((l) => l.what).join('\n  ')
  console.error(`\nthe tests left ${leaked.length} redis-server process(es) running:\n  ${list}`)
  for (const l of leaked) process.kill(l.pid, 'SIGKILL') // reported; not left for the next run
  process.exit(r.status || 1)
}
process.exit(r.status ?? 1)
