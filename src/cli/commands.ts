// The command table: one file per command, each exporting register(program).
import type { Command } from 'commander'
import * as broker from './broker.ts'
import * as cert from './cert.ts'
import * as schema from './schema.ts'
import * as validate from './validate.ts'

export const commands: { register(program: Command): void }[] = [validate, schema, cert, broker]
