// Golden renders: every artefact for every case, byte for byte. UPDATE_GOLDEN=1 rewrites the files.
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { artefacts } from '../../src/render/index.ts'
import type { RenderedFile } from '../../src/render/types.ts'
import { DEFAULT_RENDER_ENV } from '../../src/render/types.ts'
import { CASES, RENDER_ARTEFACTS } from './cases.ts'

const GOLDEN = join(import.meta.dirname, 'golden')
const update = process.env.UPDATE_GOLDEN === '1'

/** The whole of an artefact, metadata included: a change of mode or owner is a change too. */
function show(files: RenderedFile[]): string {
  if (files.length === 0) return '(no file)\n'
  return files
    .map(
      (f) =>
        `=== ${f.path} mode=0${f.mode.toString(8)} owner=${f.owner}:${f.group} validate=${f.validate ?? '-'}` +
        `${f.secret ? ' secret' : ''}\n${f.content}`,
    )
    .join('\n')
}

const mine = artefacts.filter((a) => RENDER_ARTEFACTS.includes(a.name))

test('every renderer of this area is registered', () => {
  assert.deepEqual(mine.map((a) => a.name).sort(), [...RENDER_ARTEFACTS].sort())
})

for (const [name, make] of Object.entries(CASES)) {
  test(`golden renders: ${name}`, () => {
    const spec = make()
    for (const a of mine) {
      const file = join(GOLDEN, name, `${a.name}.txt`)
      const actual = show(a.render(spec, DEFAULT_RENDER_ENV))
      if (update) {
        mkdirSync(dirname(file), { recursive: true })
        writeFileSync(file, actual)
        continue
      }
      assert.ok(existsSync(file), `missing golden file ${file}: run with UPDATE_GOLDEN=1 and review the diff`)
      assert.equal(actual, readFileSync(file, 'utf8'), `${name}/${a.name} differs from its golden file`)
    }
  })
}

test('rendering is deterministic: the same spec gives the same bytes', () => {
  for (const make of Object.values(CASES)) {
    const one = artefacts.map((a) => show(a.render(make(), DEFAULT_RENDER_ENV)))
    const two = artefacts.map((a) => show(a.render(make(), DEFAULT_RENDER_ENV)))
    assert.deepEqual(one, two)
  }
})

test('artefact names are unique and no two artefacts write the same path', () => {
  const names = artefacts.map((a) => a.name)
  assert.equal(new Set(names).size, names.length)
  for (const make of Object.values(CASES)) {
    const paths = artefacts.flatMap((a) => a.render(make(), DEFAULT_RENDER_ENV)).map((f) => f.path)
    assert.equal(new Set(paths).size, paths.length, paths.join(', '))
  }
})
