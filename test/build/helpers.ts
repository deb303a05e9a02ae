// A fixture source and a spec whose state dir is a temp dir; one Node runtime shared by every test run.
import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createFixture } from '../fixtures/monorepo.ts'
import { tempDir } from '../helpers.ts'

/** Provisioning Node takes a download: share it across tests and runs (CI may point this elsewhere). */
export const runtimeEnv = {
  XOA_RUNTIME_CACHE: process.env.XOA_RUNTIME_CACHE || join(tmpdir(), 'xoa-test-runtimes'),
}

export interface FixtureSetup {
  dir: string
  src: string
  state: string
  spec: string
  rev: string
  writeSpec(extra?: { source?: object; build?: object }): void
}

export function fixtureSetup(t: { after(fn: () => void): void }): FixtureSetup {
  const dir = tempDir(t, 'xoa-build-')
  // As root, builds run as the service account (nobody here): it must reach the checkout and the caches.
  chmodSync(dir, 0o755)
  const src = join(dir, 'src')
  const state = join(dir, 'state')
  const spec = join(dir, 'spec.json')
  const rev = createFixture(src)
  const writeSpec = (extra: { source?: object; build?: object } = {}) =>
    writeFileSync(
      spec,
      JSON.stringify({
        xo: { stateDir: state },
        source: { url: src, rev, ...extra.source },
        build: extra.build ?? {},
        service: { user: 'nobody', group: 'nogroup' },
      }),
    )
  writeSpec()
  return { dir, src, state, spec, rev, writeSpec }
}

/**
 * A runtime cache of the test's own for a service account other than nobody, hard-linked from the shared
 * one when it is there: the build opens the runtimes dir to its account's group, so two accounts sharing one
 * dir at the same time would shut each other out (on a host there is one service account).
 */
export function privateRuntimes(dir: string): { XOA_RUNTIME_CACHE: string } {
  const own = join(dir, 'runtimes')
  mkdirSync(own, { recursive: true })
  const shared = runtimeEnv.XOA_RUNTIME_CACHE
  if (existsSync(shared))
    for (const n of readdirSync(shared))
      if (/^(node|yarn)-\d/.test(n)) execFileSync('cp', ['-al', join(shared, n), join(own, n)])
  return { XOA_RUNTIME_CACHE: own }
}
