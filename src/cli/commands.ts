// The command table: one file per command, each exporting register(program).
import type { Command } from 'commander'
import * as apply from './apply.ts'
import * as backup from './backup.ts'
import * as bootstrap from './bootstrap.ts'
import * as broker from './broker.ts'
import * as build from './build.ts'
import * as cert from './cert.ts'
import * as doctor from './doctor.ts'
import * as init from './init.ts'
import * as install from './install.ts'
import * as logs from './logs.ts'
import * as plan from './plan.ts'
import * as releases from './releases.ts'
import * as render from './render.ts'
import * as restore from './restore.ts'
import * as rollback from './rollback.ts'
import * as schema from './schema.ts'
import * as state from './state.ts'
import * as status from './status.ts'
import * as up from './up.ts'
import * as update from './update.ts'
import * as upgrade from './upgrade.ts'
import * as validate from './validate.ts'

export const commands: { register(program: Command): void }[] = [
  validate,
  schema,
  cert,
  build,
  releases,
  rollback,
  plan,
  apply,
  state,
  broker,
  render,
  backup,
  restore,
  bootstrap,
  up,
  init,
  install,
  status,
  logs,
  doctor,
  update,
  upgrade,
]
