// The artefact registry: every file xoa renders, by name. `xoa render <name>` and the plan both read it.
import type { Spec } from '../spec/schema.ts'
import { brokerArtefacts } from './broker.ts'
import type { RenderedFile, RenderEnv } from './types.ts'

export interface Artefact {
  /** Name used on the command line, e.g. "config.toml", "xo-server.service". */
  name: string
  description: string
  /** Files for this artefact; empty when the spec turns it off (e.g. sudoers outside sudo mode). */
  render(spec: Spec, env: RenderEnv): RenderedFile[]
}

/** Filled by the renderers (one file per artefact under src/render/). */
export const artefacts: Artefact[] = [...brokerArtefacts]

export function renderAll(spec: Spec, env: RenderEnv): RenderedFile[] {
  return artefacts.flatMap((a) => a.render(spec, env))
}

export function findArtefact(name: string): Artefact | undefined {
  return artefacts.find((a) => a.name === name)
}
