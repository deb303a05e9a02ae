// `xoa releases`: the releases in the store, newest first, with current and previous marked; and moving one
// between hosts (`xoa releases export` / `xoa releases import`, also spelled `xoa release …`).
import type { Command } from 'commander'
import { seconds } from '../build/progress.ts'
import { listReleases } from '../build/store.ts'
import { exportRelease, resolveRelease } from '../release/export.ts'
import { DEFAULT_LIMITS, importRelease } from '../release/import.ts'
import { statePaths } from '../spec/paths.ts'
import { UsageError } from '../util/errors.ts'
import { bold, green, printJson, say } from './output.ts'
import { readSpec, type SpecOpts, withSpecOption } from './spec-option.ts'

export function register(program: Command): void {
  const releases = withSpecOption(program.command('releases').alias('release'))
    .description('list the built releases (current marked "*", previous "-"); export or import one')
    .option('--json', 'print them as a JSON array')
    .action((opts: { spec?: string; json?: boolean }) => {
      const releases = listReleases(statePaths(readSpec(opts)))
      if (opts.json) {
        printJson(
          releases.map((r) => ({ ...r.manifest, dir: r.dir, current: r.current, previous: r.previous })),
        )
        return
      }
      if (releases.length === 0) {
        say('no releases yet; build one with `xoa build`')
        return
      }
      for (const r of releases) {
        const m = r.manifest
        const mark = r.current ? '*' : r.previous ? '-' : ' '
        const line = `${mark} ${r.id}  node ${m.node}  built ${m.endedAt.slice(0, 16).replace('T', ' ')}  in ${seconds(m.durationMs)}  ${Math.round(m.sizeBytes / 1024 / 1024)} MB`
        say(r.current ? bold(line) : line)
      }
    })
  registerExport(releases)
  registerImport(releases)
}

function registerExport(releases: Command): void {
  withSpecOption(releases.command('export <release>'))
    .description('write a release (an id, or "current") as one archive another host can import')
    .option('-o, --out <file>', 'the archive to write, "-" for stdout (default: ./<id>.xoa-release.tar.gz)')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nThe archive carries the release with its Node, and an index of every entry (path, type, mode, size,\n' +
        'sha256, symlink target) whose digest is printed: pass it to `xoa releases import --digest` on the\n' +
        'hosts that import it. Never replaces an existing file.',
    )
    .action(async (ref: string, _o: unknown, cmd: Command) => {
      // --spec and --json are also options of `releases` itself, which commander hands them to.
      const opts = cmd.optsWithGlobals<SpecOpts & { out?: string; json?: boolean }>()
      const paths = statePaths(readSpec(opts))
      const id = resolveRelease(paths, ref)
      const out = opts.out ?? `${id}.xoa-release.tar.gz`
      if (out === '-' && process.stdout.isTTY)
        throw new UsageError(
          'refusing to write an archive to a terminal',
          'redirect it (> FILE, | ssh HOST xoa releases import -) or pass -o FILE',
        )
      const r = await exportRelease(paths, id, out)
      // With -o -, stdout is the archive: the report goes to stderr.
      const report = (l: string) => (out === '-' ? process.stderr.write(`${l}\n`) : say(l))
      if (opts.json) {
        if (out === '-') report(JSON.stringify(r))
        else printJson(r)
        return
      }
      report(`${green('exported')} ${r.id} to ${r.file}${r.archiveBytes ? ` (${r.archiveBytes} bytes)` : ''}`)
      report(`  ${r.entries} entries, ${r.files} files, ${r.bytes} bytes of content`)
      report(`  content digest: ${r.digest}`)
      report(`  import elsewhere with: xoa releases import FILE --digest ${r.digest}`)
    })
}

function nonNegative(flag: string, v: string): number {
  const n = Number(v)
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`${flag} takes a whole number, got ${v}`)
  return n
}

function registerImport(releases: Command): void {
  withSpecOption(releases.command('import <file>'))
    .description('add a release from an archive of `xoa releases export` ("-": stdin) to the store')
    .option('--digest <sha256>', 'refuse the archive unless its content digest is this one')
    .option('--switch', 'make the release current once it is in the store')
    .option(
      '--max-bytes <n>',
      'refuse a release whose files add up to more bytes',
      String(DEFAULT_LIMITS.maxBytes),
    )
    .option('--max-entries <n>', 'refuse a release with more entries', String(DEFAULT_LIMITS.maxEntries))
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nEverything is checked before the release becomes visible: the index (paths, modes, symlinks that stay\n' +
        'inside the release, sizes against the limits and the free space), then every member against it, and\n' +
        'every file against its sha256. Only plain files, directories and relative symlinks inside the release\n' +
        'are created, owned by root (or whoever imports), modes 644/755. A release id that is already in the\n' +
        'store with other content is refused; with the same content, nothing is done.',
    )
    .action(async (file: string, _o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<
        SpecOpts & { digest?: string; switch?: boolean; maxBytes: string; maxEntries: string; json?: boolean }
      >()
      if (opts.digest !== undefined && !/^[0-9a-f]{64}$/.test(opts.digest))
        throw new UsageError('--digest takes the 64 hex digits `xoa releases export` printed')
      const paths = statePaths(readSpec(opts))
      const r = await importRelease(paths, file, {
        digest: opts.digest,
        switch: opts.switch,
        limits: {
          maxBytes: nonNegative('--max-bytes', opts.maxBytes),
          maxEntries: nonNegative('--max-entries', opts.maxEntries),
        },
      })
      if (opts.json) return printJson(r)
      say(
        r.status === 'imported'
          ? `${green('imported')} ${r.id} (${r.entries} entries, ${r.bytes} bytes)${r.switched ? '; now current' : ''}`
          : `already there: ${r.id}, same content${r.switched ? '; now current' : ''}`,
      )
      say(`  content digest: ${r.digest}`)
      if (!r.switched && r.status === 'imported')
        say(`  make it current with: xoa rollback ${r.id} (or import with --switch)`)
    })
}
