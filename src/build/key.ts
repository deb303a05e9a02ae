// The build key: a hash of everything that changes a release's content. Same key ⇒ same release ⇒ no work.
import { createHash } from 'node:crypto'

/** Bump when a change in xoa's builder changes what a release contains. */
export const BUILDER_VERSION = 1

export interface BuildInputs {
  url: string
  rev: string
  lockHash: string
  node: string
  yarn: string
  docs: boolean
  /** Only the values the spec fixes: chosen-from-memory values vary run to run and do not change output. */
  jobs?: number
  heapMb?: number
}

export function buildKey(inputs: BuildInputs): string {
  const canonical = JSON.stringify({
    builder: BUILDER_VERSION,
    url: inputs.url,
    rev: inputs.rev,
    lockHash: inputs.lockHash,
    node: inputs.node,
    yarn: inputs.yarn,
    docs: inputs.docs,
    jobs: inputs.jobs ?? null,
    heapMb: inputs.heapMb ?? null,
  })
  return createHash('sha256').update(canonical).digest('hex')
}

/** `<version>-<shortrev>-<key>`: sortable by a person, unique per content. */
export function releaseId(version: string, rev: string, key: string): string {
  const safeVersion = version.replace(/[^0-9A-Za-z.+_-]/g, '_')
  return `${safeVersion}-${rev.slice(0, 10)}-${key.slice(0, 12)}`
}

export const RELEASE_ID = /^[0-9A-Za-z.+_-]+-[0-9a-f]{7,40}-[0-9a-f]{12}$/

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}
