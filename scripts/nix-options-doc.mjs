// Writes the options reference of the NixOS module (docs/nixos-options.md) from the module itself, evaluated
// with nixpkgs' lib: NIXPKGS_LIB=<nixpkgs>/lib node scripts/nix-options-doc.mjs
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'

const lib = process.env.NIXPKGS_LIB
if (!lib) {
  console.error('nix-options-doc: set NIXPKGS_LIB to a nixpkgs lib directory')
  process.exit(2)
}
const expr = `
let
  lib = import (/. + ${JSON.stringify(lib)});
  pkgs = import ./test/nix/stub-pkgs.nix { inherit lib; };
  eval = lib.evalModules { modules = [ ./test/nix/stub-options.nix ./nix/module { _module.args.pkgs = pkgs; } ]; };
in map (o: { inherit (o) name description type; default = o.default.text or null; })
  (lib.filter (o: o.visible && !o.internal) (lib.optionAttrSetToDocList eval.options.xoa))`
const opts = JSON.parse(
  execFileSync('nix-instantiate', ['--eval', '--strict', '--json', '-E', expr], { encoding: 'utf8' }),
)
const lines = [
  '# NixOS options reference (`xoa.xo.*`)',
  '',
  'Generated from `nix/module` by `scripts/nix-options-doc.mjs`; do not edit. Spec fields are documented once,',
  'in `src/spec/schema.ts`: `xoa.xo.<field>` is spec `xo.<field>`, `xoa.xo.<section>.*` is spec `<section>.*`.',
  '',
]
for (const o of opts) {
  lines.push(`## \`${o.name}\``, '', o.description.trim(), '', `- type: ${o.type}`)
  if (o.default !== null) lines.push(`- default: \`${o.default.replace(/\n\s*/g, ' ')}\``)
  lines.push('')
}
writeFileSync('docs/nixos-options.md', lines.join('\n'))
console.log(`docs/nixos-options.md: ${opts.length} options`)
