// `xoa doctor`: the seed's troubleshooting, automated. One line per finding; each one that is not ok says the fix.
import type { Command } from 'commander'
import { runDoctor } from '../status/doctor/index.ts'
import type { Finding, Level } from '../status/doctor/types.ts'
import { EXIT } from '../util/errors.ts'
import { bold, dim, green, printJson, red, say, yellow } from './output.ts'
import { specPathOf, withSpecOption } from './spec-option.ts'

const LABEL: Record<Level, (s: string) => string> = {
  ok: (s) => green(s),
  warn: (s) => yellow(s),
  fail: (s) => red(bold(s)),
  skip: (s) => dim(s),
}

export function formatFinding(f: Finding, width: number): string[] {
  const tag = LABEL[f.level](f.level === 'fail' ? 'FAIL' : f.level.padEnd(4))
  const lines = [`${tag}  ${f.check.padEnd(width)}  ${f.finding}`]
  if (f.fix) lines.push(`${' '.repeat(6 + width + 2)}fix: ${f.fix}`)
  return lines
}

export function register(program: Command): void {
  withSpecOption(program.command('doctor'))
    .description('check everything XO needs, say what is wrong and the command that fixes it')
    .option('--json', 'print the findings as JSON')
    .option('--root <dir>', 'check the host installed under DIR instead of / (image builds, tests)')
    .addHelpText(
      'after',
      '\nExit status: 0 when no check fails (warnings allowed), 1 when one does.\nSee docs/operations.md for what each check means.',
    )
    .action(async (opts: { spec?: string; json?: boolean; root?: string }) => {
      const report = await runDoctor({ specPath: specPathOf(opts), root: opts.root })
      process.exitCode = report.ok ? EXIT.ok : EXIT.failed
      if (opts.json) return printJson(report)
      const width = Math.max(...report.findings.map((f) => f.check.length))
      for (const f of report.findings) for (const l of formatFinding(f, width)) say(l)
      const c = report.counts
      say()
      const line = `${c.fail} failed, ${c.warn} warnings, ${c.ok} ok, ${c.skip} skipped`
      say(report.ok ? green(line) : red(line))
    })
}
