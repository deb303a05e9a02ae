// The command `yarn build` would run, adjusted: without the docs step unless asked, and with turbo's
// concurrency bounded by the memory we have. Works on the root `build` script's `a && b && c` shape.
export interface ScriptOptions {
  docs: boolean
  jobs: number
}

const DOC_STEP = /^(yarn|npm)\s+(run\s+)?build:docs?$/

export function buildCommand(scripts: Record<string, string> | undefined, opts: ScriptOptions): string {
  const script = scripts?.build
  if (!script) throw new Error('the root package.json has no "build" script')
  return script
    .split('&&')
    .map((s) => s.trim())
    .filter((step) => opts.docs || !DOC_STEP.test(step))
    .map((step) => (/(^|\s)turbo\s+run\s/.test(step) ? `${step} --concurrency=${opts.jobs}` : step))
    .join(' && ')
}
