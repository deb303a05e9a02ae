import type { Command } from 'commander'
import { specJsonSchema } from '../spec/schema.ts'
import { printJson } from './output.ts'

export function register(program: Command): void {
  program
    .command('schema')
    .description('print the JSON Schema of the spec (for editors and other tools)')
    .action(() => printJson(specJsonSchema()))
}
