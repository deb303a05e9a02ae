// `xoa render`: print or write the files xoa renders from the spec. The NixOS module calls it in a derivation,
// so the output depends only on the spec and the flags (no host name, no clock).
import { mkdirSync } from 'node:fs'
import { realpath } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import type { Command } from 'commander'
import { closest } from 'fastest-levenshtein'
import { self } from '../fs/at.ts'
import { SafeDir } from '../fs/safe-dir.ts'
import { BUILT_IN, currentPlatform, loadPlatform, PLATFORM_ENV } from '../platform/load.ts'
import { type Artefact, artefacts } from '../render/index.ts'
import { DEFAULT_RENDER_ENV, type RenderEnv, type RenderedFile } from '../render/types.ts'
import { UsageError } from '../util/errors.ts'
import { printJson, say } from './output.ts'
import { readSpec, specPathOf, withSpecOption } from './spec-option.ts'

interface RenderOpts {
  spec?: string
  out?: string
  list?: boolean
  json?: boolean
  xoaCommand?: string
  platform?: string
}

export function register(program: Command): void {
  withSpecOption(program.command('render'))
    .argument('[artefact]', 'artefact name (see --list) or "all"')
    .description(
      'print a rendered file to stdout, or write the files under --out DIR at their absolute paths',
    )
    .option(
      '-o, --out <dir>',
      'write each file to DIR/<its absolute path> (e.g. DIR/etc/xo-server/config.toml)',
    )
    .option('-l, --list', 'list the artefact names with what they are')
    .option(
      '--json',
      'with --list or to stdout: machine-readable output (files with path, mode, owner, content)',
    )
    .option(
      '--xoa-command <path>',
      `how the units call xoa on the host (default ${DEFAULT_RENDER_ENV.xoaCommand.join(' ')})`,
    )
    .option(
      '--platform <name|file>',
      `where the tools live on the host: ${Object.keys(BUILT_IN).join(', ')} or a platform file (default $${PLATFORM_ENV}, else debian; docs/platform.md)`,
    )
    .addHelpText(
      'after',
      '\nExamples:\n  xoa render --list\n  xoa render config.toml --spec xoa.toml\n  xoa render all --spec spec.json --out ./out',
    )
    .action((name: string | undefined, opts: RenderOpts) => run(name, opts))
}

async function run(name: string | undefined, opts: RenderOpts): Promise<void> {
  if (opts.list) {
    list(opts.json === true)
    return
  }
  if (!name) throw new UsageError('which artefact?', 'xoa render --list')
  const chosen = pick(name)
  const spec = readSpec(opts)
  const env: RenderEnv = {
    xoaCommand: opts.xoaCommand ? [opts.xoaCommand] : DEFAULT_RENDER_ENV.xoaCommand,
    specPath: opts.spec ? resolve(opts.spec) : specPathOf(opts),
    platform: opts.platform ? loadPlatform(opts.platform) : currentPlatform(),
  }
  const files = chosen.flatMap((a) => a.render(spec, env))
  if (opts.out) {
    await writeUnder(resolve(opts.out), files)
    return
  }
  if (opts.json) {
    printJson(files.map(describe))
    return
  }
  if (files.length === 0) {
    process.stderr.write(`xoa: ${name} renders no file with this spec (turned off by the spec)\n`)
    return
  }
  // One artefact of one file prints as is, byte for byte; several get a header each.
  if (files.length === 1) process.stdout.write(files[0]!.content)
  else for (const f of files) process.stdout.write(`### ${f.path}\n${f.content}\n`)
}

function pick(name: string): Artefact[] {
  if (name === 'all') return artefacts
  const a = artefacts.find((x) => x.name === name)
  if (a) return [a]
  const names = artefacts.map((x) => x.name)
  throw new UsageError(
    `unknown artefact "${name}"${names.length ? `; did you mean "${closest(name, names)}"?` : ''}`,
    'xoa render --list',
  )
}

function list(json: boolean): void {
  if (json) {
    printJson(artefacts.map(({ name, description }) => ({ name, description })))
    return
  }
  const width = Math.max(...artefacts.map((a) => a.name.length))
  for (const a of artefacts) say(`${a.name.padEnd(width)}  ${a.description}`)
}

function describe(f: RenderedFile) {
  return { ...f, mode: `0${f.mode.toString(8)}` }
}

/** Into --out (the caller's own directory, so its path may hold links): beneath it, nothing is followed. */
async function writeUnder(outDir: string, files: RenderedFile[]): Promise<void> {
  mkdirSync(outDir, { recursive: true })
  const out = await SafeDir.open(await realpath(outDir))
  try {
    for (const f of files) {
      const target = join(outDir, f.path)
      const dir = await out.beneath(dirname(f.path), { create: self(0o755) })
      try {
        // Modes as on the host; owners are applied by `xoa apply`, not here (this may run unprivileged).
        await dir.writeFile(basename(f.path), f.content, self(f.mode))
      } finally {
        await dir.close()
      }
      say(`${target}`)
    }
  } finally {
    await out.close()
  }
}
