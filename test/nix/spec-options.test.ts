// Opt-in (NIXPKGS_LIB): nix/lib/spec-options.nix turns the spec's JSON Schema into option types. A value of
// several forms (an env value: a string, or `{ file = "/run/secrets/x"; }`, src/spec/secret-file.ts) takes either
// form, and the `{ file }` form needs its `file`.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { test } from 'node:test'
import { z } from 'zod'
import { secretFileRef } from '../../src/spec/secret-file.ts'
import { REPO } from '../helpers.ts'
import { NIXPKGS_LIB, skipNoLib } from './eval-module.ts'

const schema = z.toJSONSchema(z.record(z.string(), z.union([z.string(), secretFileRef])), {
  io: 'input',
  unrepresentable: 'any',
})

function evalEnv(value: string) {
  const expr = `let
    lib = import (/. + ${JSON.stringify(NIXPKGS_LIB)});
    gen = import ${JSON.stringify(join(REPO, 'nix', 'lib', 'spec-options.nix'))} { inherit lib; };
    s = builtins.fromJSON ${JSON.stringify(JSON.stringify(schema))};
    e = lib.evalModules { modules = [ { options.env = lib.mkOption { type = gen.typeOf [ "env" ] s; }; config.env = ${value}; } ]; };
  in e.config.env`
  return spawnSync('nix-instantiate', ['--eval', '--strict', '--json', '-E', expr], { encoding: 'utf8' })
}

test('a string or { file } value: both forms reach the spec JSON as they are', { skip: skipNoLib }, () => {
  const r = evalEnv('{ A = "plain"; B = { file = "/run/secrets/b"; }; }')
  assert.equal(r.status, 0, r.stderr)
  assert.deepEqual(JSON.parse(r.stdout), { A: 'plain', B: { file: '/run/secrets/b' } })
})

test('{ file } without its file, or with another key, is refused', { skip: skipNoLib }, () => {
  assert.notEqual(evalEnv('{ B = { }; }').status, 0)
  assert.notEqual(evalEnv('{ B = { path = "/x"; }; }').status, 0)
  assert.notEqual(evalEnv('{ B = 3; }').status, 0)
})
