// Issue 10 #15: the image pin must check before it opens. With <mountsDir>/devlnk -> /dev, a request for
// <mountsDir>/devlnk/tty0 used to open /dev/tty0 as root (then refuse it). strace records every open of a
// process that pins just that image: the device is never opened, nor anything below the symlink.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { rootLayout } from './real-broker.ts'

describe('image pins walk before they open (issue 10 #15)', () => {
  for (const dev of ['tty0', 'full'])
    it(`devlnk -> /dev: /dev/${dev} is never opened`, (t) => {
      const { base, mountsDir } = rootLayout(t, 'xoa-walk-')
      symlinkSync('/dev', join(mountsDir, 'devlnk'))
      const out = join(base, 'strace')
      const r = spawnSync(
        'strace',
        [
          '-f',
          '-qq',
          '-e',
          'trace=open,openat,openat2',
          '-o',
          out,
          process.execPath,
          '--import',
          'tsx',
        ].concat([
          join(import.meta.dirname, 'fixtures', 'pin-image.ts'),
          mountsDir,
          join(mountsDir, 'devlnk', dev),
        ]),
        { encoding: 'utf8' },
      )
      assert.equal(r.status, 0, r.stderr)
      assert.match(r.stdout, /refused: .*devlnk is a symlink/)
      const opens = readFileSync(out, 'utf8')
        .split('\n')
        .filter((l) => /open/.test(l))
      assert.ok(
        opens.some((l) => l.includes('devlnk') && l.includes('O_PATH')),
        'the walk reached devlnk (O_PATH)',
      )
      const bad = opens.filter((l) => l.includes(`devlnk/${dev}`) || l.includes(`/dev/${dev}`))
      assert.deepEqual(bad, [], 'nothing below the symlink was opened')
    })
})
