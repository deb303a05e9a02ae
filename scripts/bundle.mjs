// Bundles the CLI into one self-contained ESM file (dist/xoa.mjs): the npm bin, and what the Nix package runs,
// since our registry-neutral lockfile carries no download addresses Nix could fetch from.
import { chmodSync, readFileSync } from 'node:fs'
import { build } from 'esbuild'

const { version } = JSON.parse(readFileSync('package.json', 'utf8'))

await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/xoa.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  define: { XOA_VERSION: JSON.stringify(version) },
  legalComments: 'none',
  logLevel: 'warning',
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __xoaCreateRequire } from 'node:module';\nconst require = __xoaCreateRequire(import.meta.url);",
  },
})
chmodSync('dist/xoa.mjs', 0o755)
