// The artefact registry: every file xoa renders, by name. `xoa render <name>` and the plan both read it.
import type { Spec } from '../spec/schema.ts'
import { brokerArtefacts } from './broker.ts'
import { redisConfigArtefact, redisUnitArtefact } from './redis.ts'
import { authorizedKeysArtefact, sshdArtefact } from './sshd.ts'
import { adminSudoersArtefact, mountSudoersArtefact } from './sudoers.ts'
import { tmpfilesArtefact } from './tmpfiles.ts'
import type { RenderEnv, RenderedFile } from './types.ts'
import { xoServerConfigArtefact } from './xo-server-config.ts'
import { xoServerUnitArtefact } from './xo-server-unit.ts'
import {
  bootstrapUnitArtefact,
  buildUnitArtefact,
  stateUnitArtefact,
  updateUnitsArtefact,
} from './xoa-units.ts'

export interface Artefact {
  /** Name used on the command line, e.g. "config.toml", "xo-server.service". */
  name: string
  description: string
  /** Files for this artefact; empty when the spec turns it off (e.g. sudoers outside sudo mode). */
  render(spec: Spec, env: RenderEnv): RenderedFile[]
}

/** One entry per artefact (one file per renderer under src/render/); the order is the order of `render all`. */
export const artefacts: Artefact[] = [
  xoServerConfigArtefact,
  redisConfigArtefact,
  redisUnitArtefact,
  bootstrapUnitArtefact,
  buildUnitArtefact,
  xoServerUnitArtefact,
  stateUnitArtefact,
  updateUnitsArtefact,
  adminSudoersArtefact,
  mountSudoersArtefact,
  sshdArtefact,
  authorizedKeysArtefact,
  ...brokerArtefacts,
  tmpfilesArtefact,
]

export function renderAll(spec: Spec, env: RenderEnv): RenderedFile[] {
  return artefacts.flatMap((a) => a.render(spec, env))
}

export function findArtefact(name: string): Artefact | undefined {
  return artefacts.find((a) => a.name === name)
}
