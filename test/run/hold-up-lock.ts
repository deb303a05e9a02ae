// A child process that holds the `xoa up` lock of a spec's state dir, with the very code `xoa up` runs, until it
// is killed: `node --import tsx hold-up-lock.ts SPEC_FILE [SERVER_PID]`. Prints "held" once it listens.
import { holdUpLock } from '../../src/run/up-lock.ts'
import { loadSpecFile } from '../../src/spec/load.ts'

const [specFile, serverPid] = process.argv.slice(2)
const spec = loadSpecFile(specFile!)
await holdUpLock(spec, () =>
  serverPid ? { pid: Number(serverPid), since: '2026-01-01T00:00:00.000Z' } : undefined,
)
process.stdout.write('held\n')
setInterval(() => {}, 1 << 30)
