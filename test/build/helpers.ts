// A fixture source and a spec whose state dir is a temp dir; one Node runtime shared by every test run.
import { chmodSync, writeFileSync } from 'node:fs'
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
