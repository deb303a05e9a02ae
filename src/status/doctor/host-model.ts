// Doctor's view of who may read and write what, taken from the plan itself: the same resources `xoa plan` lists
// (src/plan/desired.ts, the secrets of src/host/secrets.ts in the host's run mode) and the same observation
// (src/plan/observe.ts, through the safe layer), so doctor and apply never disagree on an owner or a mode.
import type { RunMode } from '../../host/layout.ts'
import { hostSecrets } from '../../host/secrets.ts'
import { desired } from '../../plan/desired.ts'
import { type Observed, observe, type PathState } from '../../plan/observe.ts'
import type { DirResource, SecretResource } from '../../plan/resources.ts'
import { DEFAULT_RENDER_ENV } from '../../render/types.ts'
import { statePaths } from '../../spec/paths.ts'
import type { Spec } from '../../spec/schema.ts'
import type { HostView } from '../host.ts'

export interface ModelFacts {
  dirs: { resource: DirResource; field: string; state?: PathState }[]
  secrets: { resource: SecretResource; state?: PathState }[]
}

/** The dirs whose owner decides who writes XO's data (and the secrets dir), and every secret, as planned. */
export function doctorResources(
  spec: Spec,
  mode: RunMode,
): { dirs: DirResource[]; secrets: SecretResource[] } {
  const plan = desired(spec, DEFAULT_RENDER_ENV)
  const fields = dirFields(spec)
  const dirs = plan.filter((r): r is DirResource => r.kind === 'dir' && fields.has(r.path))
  const secrets =
    mode === 'systemd'
      ? plan.filter((r): r is SecretResource => r.kind === 'secret')
      : hostSecrets(spec, mode).map(({ id: _, ...s }): SecretResource => ({ kind: 'secret', ...s }))
  return { dirs, secrets }
}

function dirFields(spec: Spec): Map<string, string> {
  return new Map([
    [spec.xo.dataDir, 'xo.dataDir'],
    [spec.xo.tempDir, 'xo.tempDir'],
    [statePaths(spec).secrets, 'the secrets dir'],
  ])
}

export async function observeModel(spec: Spec, mode: RunMode, host: HostView): Promise<ModelFacts> {
  const { dirs, secrets } = doctorResources(spec, mode)
  const seen = await observe({ root: host.root, live: host.live, systemd: false, dpkg: false }, [
    ...dirs,
    ...secrets,
  ])
  const state = (o: Observed | undefined) => (o?.kind === 'path' ? o.state : undefined)
  const fields = dirFields(spec)
  return {
    dirs: dirs.map((resource, i) => ({ resource, field: fields.get(resource.path)!, state: state(seen[i]) })),
    secrets: secrets.map((resource, i) => ({ resource, state: state(seen[dirs.length + i]) })),
  }
}
