// The machine's npm configuration, for every download a build makes. The runtime step runs the machine's npm,
// which reads it itself; yarn runs as the service account with a HOME of its own and would read none of it, so
// xoa asks npm (as root, before privileges drop) and hands yarn an explicit copy: registry, scoped registries,
// CA, strict-ssl and registry credentials in an npmrc only the build account can read, the proxy settings in
// the environment (HTTP(S)_PROXY, NO_PROXY, which yarn's HTTP client honours), NODE_EXTRA_CA_CERTS as a copy.
import {
  chmodSync,
  closeSync,
  fchownSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeSync,
} from 'node:fs'
import { dirname, join } from 'node:path'
import { execa } from 'execa'
import { XoaError } from '../util/errors.ts'

export interface NpmSettings {
  registry?: string
  /** "@scope:registry" → URL */
  scoped: Record<string, string>
  /** PEM text of the CAs npm trusts instead of the default ones (cafile and ca); empty: the defaults. */
  ca: string
  strictSsl: boolean
  proxy?: string
  httpsProxy?: string
  noproxy?: string
  /** Credential lines (`//host/:_authToken=…`, `_auth=…`) as they are in the npmrc files npm reads. */
  authLines: string[]
}

/**
 * Environment for the machine's npm. As root, nothing another account can change steers it: a user config
 * that is not root's alone is not read, and when HOME is not root's alone (in xo-build.service it is the
 * service account's) npm's cache and logs go to `rootCache` instead of HOME/.npm, where a planted entry or
 * link could feed root a package or a write.
 */
export function npmEnv(
  log: (line: string) => void,
  env: NodeJS.ProcessEnv = process.env,
  rootCache?: string,
): Record<string, string> {
  if (process.getuid?.() !== 0) return {}
  const out: Record<string, string> = {}
  const home = env.HOME ?? '/root'
  const file = env.npm_config_userconfig ?? env.NPM_CONFIG_USERCONFIG ?? join(home, '.npmrc')
  if (!rootOnly(file)) {
    log(`not reading ${file}: it or its directory is not root's alone`)
    // Both spellings: npm reads either, and the caller's environment may have one of them.
    Object.assign(out, { npm_config_userconfig: '/dev/null', NPM_CONFIG_USERCONFIG: '/dev/null' })
  }
  if (rootCache && !safeDir(home)) {
    ensureRootDir(rootCache)
    for (const [k, v] of [
      ['cache', rootCache],
      ['logs_dir', join(rootCache, '_logs')],
    ] as const)
      Object.assign(out, { [`npm_config_${k}`]: v, [`NPM_CONFIG_${k.toUpperCase()}`]: v })
  }
  return out
}

/** A directory root alone owns and enters (replaced if it is anything else). */
function ensureRootDir(dir: string): void {
  try {
    const st = lstatSync(dir)
    if (st.isDirectory() && st.uid === 0) {
      chmodSync(dir, 0o700)
      return
    }
    rmSync(dir, { recursive: true, force: true })
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
  }
  mkdirSync(dirname(dir), { recursive: true })
  mkdirSync(dir, { mode: 0o700 })
}

/** Absent, or a file (not a symlink) that only root can change, in a directory only root can change. */
function rootOnly(file: string): boolean {
  try {
    const st = lstatSync(file)
    const dir = lstatSync(dirname(file))
    const safe = (s: typeof st) => s.uid === 0 && (s.mode & 0o022) === 0
    return st.isFile() && safe(st) && safe(dir)
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' && safeDir(dirname(file))
  }
}

function safeDir(dir: string): boolean {
  try {
    const st = lstatSync(dir)
    return st.isDirectory() && st.uid === 0 && (st.mode & 0o022) === 0
  } catch {
    return false
  }
}

const AUTH_LINE = /^\s*(\/\/[^=\s]+:)?(_auth|_authToken|_password|username|always-auth)\s*=/

/** Pure: the settings from `npm config list --json` and the text of the npmrc files npm read. */
export function parseNpmConfig(
  json: Record<string, unknown>,
  files: string[],
  caFiles: string[],
): NpmSettings {
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined)
  const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : [])
  const scoped: Record<string, string> = {}
  for (const [k, v] of Object.entries(json)) if (/^@[^:]+:registry$/.test(k) && str(v)) scoped[k] = String(v)
  const ca = [...caFiles, ...list(json.ca)].map((p) => p.trim()).filter((p) => p !== '')
  return {
    registry: str(json.registry),
    scoped,
    ca: ca.length ? `${ca.join('\n')}\n` : '',
    strictSsl: json['strict-ssl'] !== false,
    proxy: str(json.proxy),
    httpsProxy: str(json['https-proxy']),
    noproxy: list(json.noproxy).join(',') || undefined,
    authLines: files.flatMap((t) => t.split('\n').filter((l) => AUTH_LINE.test(l))).map((l) => l.trim()),
  }
}

/** Ask the machine's npm (as the caller: root, before privileges drop) what it would use. */
export async function machineNpmSettings(cwd: string, env: Record<string, string>): Promise<NpmSettings> {
  const r = await execa('npm', ['config', 'list', '--json'], { cwd, env, reject: false })
  if (r.exitCode !== 0)
    throw new XoaError(`npm config list failed (exit ${r.exitCode}): ${r.stderr.trim()}`, {
      hint: 'check the npm configuration of this machine (`npm config list`)',
    })
  const json = JSON.parse(r.stdout) as Record<string, unknown>
  const read = (p: unknown) => {
    try {
      return typeof p === 'string' && p !== '/dev/null' ? readFileSync(p, 'utf8') : ''
    } catch {
      return ''
    }
  }
  const cafile = typeof json.cafile === 'string' ? json.cafile : undefined
  if (cafile && read(cafile) === '')
    throw new XoaError(`npm's cafile ${cafile} cannot be read`, {
      hint: 'fix cafile in the npm configuration',
    })
  return parseNpmConfig(json, [read(json.globalconfig), read(json.userconfig)], cafile ? [read(cafile)] : [])
}

/** Pure: the npmrc yarn gets. `caPath`: where the CA bundle is, when there is one. */
export function yarnNpmrc(s: NpmSettings, caPath?: string): string {
  const lines = ['# Written by xoa build from the machine npm configuration; removed after the build.']
  if (s.registry) lines.push(`registry=${s.registry}`)
  for (const [k, v] of Object.entries(s.scoped)) lines.push(`${k}=${v}`)
  if (caPath) lines.push(`cafile=${caPath}`)
  if (!s.strictSsl) lines.push('strict-ssl=false')
  lines.push(...s.authLines)
  return `${lines.join('\n')}\n`
}

/**
 * Pure: the caller's npm_config_* / NPM_CONFIG_* variables, set to undefined so a child does not inherit them.
 * yarn reads them too, over the npmrc xoa wrote for it: one naming a root-only file (a build secret's
 * NPM_CONFIG_CAFILE=/run/secrets/…) would make yarn, as the build account, fail to open it. xoa has already
 * asked npm what they mean and handed yarn the result (writeYarnConfig).
 */
export function unsetNpmEnv(env: NodeJS.ProcessEnv): Record<string, undefined> {
  return Object.fromEntries(
    Object.keys(env)
      .filter((k) => /^npm_config_/i.test(k))
      .map((k) => [k, undefined]),
  )
}

const PROXY_ENV = ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy']

/** Pure: the proxy environment for yarn: the caller's own, else npm's proxy settings. */
export function proxyEnv(s: NpmSettings, env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {}
  for (const k of PROXY_ENV) if (env[k]) out[k] = env[k]
  const set = (k: string, v: string | undefined) => {
    if (v && !out[k] && !out[k.toLowerCase()]) {
      out[k] = v
      out[k.toLowerCase()] = v
    }
  }
  set('HTTPS_PROXY', s.httpsProxy ?? s.proxy)
  set('HTTP_PROXY', s.proxy)
  set('NO_PROXY', s.noproxy)
  return out
}

/** Create `file` anew (never through a link someone left there), mode `mode`, owned by `owner` when given. */
function writePrivate(file: string, text: string, mode: number, owner?: { uid: number; gid: number }) {
  rmSync(file, { force: true })
  const fd = openSync(file, 'wx', mode) // O_EXCL: fails on anything, a symlink included, put back meanwhile
  try {
    writeSync(fd, text)
    if (owner) fchownSync(fd, owner.uid, owner.gid)
  } finally {
    closeSync(fd)
  }
}

export interface YarnConfig {
  env: Record<string, string>
  /** Remove the npmrc again (it may hold registry credentials). */
  remove(): void
}

/**
 * Write yarn's npmrc (0600, the build account's) and CA copies into the build's HOME `home`, which belongs
 * to the build account; return the environment yarn needs besides.
 */
export function writeYarnConfig(
  home: string,
  s: NpmSettings,
  owner: { uid: number; gid: number } | undefined,
  env: NodeJS.ProcessEnv = process.env,
): YarnConfig {
  const npmrc = join(home, '.npmrc')
  const caPath = s.ca ? join(home, 'npm-ca.pem') : undefined
  if (caPath) writePrivate(caPath, s.ca, 0o644, owner)
  writePrivate(npmrc, yarnNpmrc(s, caPath), 0o600, owner)
  const out = proxyEnv(s, env)
  const extra = env.NODE_EXTRA_CA_CERTS
  if (extra) {
    // The build account may not be able to read the machine's file: it gets a copy.
    try {
      const copy = join(home, 'node-extra-ca.pem')
      writePrivate(copy, readFileSync(extra, 'utf8'), 0o644, owner)
      out.NODE_EXTRA_CA_CERTS = copy
    } catch {
      out.NODE_EXTRA_CA_CERTS = extra
    }
  }
  return { env: out, remove: () => rmSync(npmrc, { force: true }) }
}
