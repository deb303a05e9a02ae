// Specs the render tests share: the defaults, the shipped example, and a variant that flips every switch.
import { join } from 'node:path'
import { loadSpecFile, validateSpec } from '../../src/spec/load.ts'
import type { Spec, SpecInput } from '../../src/spec/schema.ts'
import { REPO } from '../helpers.ts'

export const spec = (input: SpecInput = {}): Spec => validateSpec(input)

export const VARIANT: SpecInput = {
  xo: {
    host: '127.0.0.1',
    port: 8080,
    httpsPort: 8443,
    stateDir: '/srv/xo state',
    dataDir: '/srv/xo-data',
    tempDir: '/srv/xo-tmp',
    mountsDir: '/srv/xo-mounts',
    extraServerEnv: { DEBUG: 'xo:main', NODE_OPTIONS: '--max-old-space-size=2048', TRICKY: 'a "b" $c \\d' },
    settings: {
      http: { listen: { '0': { port: 9090 } }, useForwardedHeaders: true },
      logs: { level: 'debug' },
    },
  },
  service: { user: 'xosvc', group: 'xosvc' },
  admin: { user: 'ops', sshd: false },
  redis: { socket: '/srv/redis/redis.sock', dir: '/srv/redis/data', maxmemory: '512mb' },
  mounts: { mode: 'sudo' },
  updates: { schedule: 'Sun 03:00', channel: 'stable' },
}

export const CASES: Record<string, () => Spec> = {
  default: () => spec(),
  example: () => loadSpecFile(join(REPO, 'examples', 'xoa.toml')),
  variant: () => spec(VARIANT),
  'no-ssl': () => spec({ xo: { ssl: { enable: false }, port: 8080 }, mounts: { mode: 'none' } }),
}

/** The artefacts these tests own (the broker's are tested under test/mount). */
export const RENDER_ARTEFACTS = [
  'config.toml',
  'redis-xo.conf',
  'redis-xo.service',
  'xo-bootstrap.service',
  'xo-build.service',
  'xo-server.service',
  'xoa-state.service',
  'xoa-update.timer',
  'sudoers-admin',
  'sudoers-mount',
  'sshd',
  'authorized_keys',
  'tmpfiles.d',
]
