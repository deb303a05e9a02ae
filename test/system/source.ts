// Which Xen Orchestra source the end-to-end system test builds inside the container, and how the container
// reaches it. One place, so wiring issue 3's fixture monorepo in is a change here only.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { miniXoClis } from '../fixtures/mini-xo/bundle.ts'
import { createFixture } from '../fixtures/monorepo.ts'
import type { Bind } from '../harness/nspawn.ts'

export type SystemSource =
  | {
      url: string
      rev?: string
      binds: Bind[]
      network: 'private' | 'host'
      label: string
      /** The fixture repository on the host (fixture source only): a test may commit new releases to it. */
      fixtureDir?: string
      dispose?: () => void
    }
  | { skip: string }

/** Where a local source repository appears inside the container. */
const CONTAINER_SOURCE = '/srv/xo-source'

export async function systemTestSource(): Promise<SystemSource> {
  const env = process.env.XO_SOURCE_URL
  if (env) {
    // Real upstream XO: its yarn install needs the package registry, so the container shares the host network.
    const local = env.startsWith('file://') ? fileURLToPath(env) : env.startsWith('/') ? env : undefined
    if (local) {
      if (!existsSync(local) || !statSync(local).isDirectory())
        return { skip: `XO_SOURCE_URL=${env} is not a directory` }
      return {
        url: `file://${CONTAINER_SOURCE}`,
        rev: process.env.XO_SOURCE_REV ?? headOf(local),
        binds: [{ host: local, container: CONTAINER_SOURCE, readOnly: true }],
        network: 'host',
        label: `real XO from XO_SOURCE_URL (${local})`,
      }
    }
    return {
      url: env,
      rev: process.env.XO_SOURCE_REV,
      binds: [],
      network: 'host',
      label: `real XO from ${env}`,
    }
  }
  if (process.env.XOA_SYSTEM_FIXTURE === '0')
    return { skip: 'XOA_SYSTEM_FIXTURE=0: the fixture source is off' }
  // Default: the fixture monorepo with the mini xo-server (test/fixtures/mini-xo), which serves HTTPS, keeps
  // users in Redis and creates admin@admin.net when Redis has none, like upstream.
  const dir = mkdtempSync(join(tmpdir(), 'xoa-system-src-'))
  // Also when the suite is skipped (its after() hooks never run).
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }))
  const rev = createFixture(dir, await miniXoClis())
  return {
    url: `file://${CONTAINER_SOURCE}`,
    rev,
    binds: [{ host: dir, container: CONTAINER_SOURCE, readOnly: true }],
    network: 'host', // the build provisions its Node runtime through npm
    label: `fixture monorepo with the mini xo-server (${dir})`,
    fixtureDir: dir,
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  }
}

/** The commit a local repository's HEAD names (bare or not); undefined lets the pin's rev apply. */
function headOf(dir: string): string | undefined {
  const r = spawnSync('git', ['-C', dir, 'rev-parse', 'HEAD'], { encoding: 'utf8' })
  return r.status === 0 ? r.stdout.trim() : undefined
}
