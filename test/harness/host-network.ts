// What a container on the host's network gets from this machine, laid out the way an admin configures a fresh
// Debian behind the same network: the host's apt sources and apt network settings (same mirror, same proxy),
// npm pointed at the machine's CA bundle by `cafile=` in /etc/npmrc (a TLS-intercepting proxy's CA), and the
// servers apply installs kept on the loopback, on ports nothing else uses. Nothing is bound over a path a
// package owns (apt must be able to install ca-certificates inside), and no mirror host is written in the repo:
// everything is copied from this machine at boot time.
import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

/** Where the machine's CA bundle is put inside, for npm's `cafile=`. */
export const CONTAINER_CA_BUNDLE = '/usr/local/share/xoa-test/ca-bundle.pem'

const APT = '/etc/apt'

export interface HostNetworkSetup {
  /** The port the container's sshd listens on (loopback only). */
  sshPort: number
}

export function shareHostNetworkConfig(root: string, ports: { ssh: number }): HostNetworkSetup {
  copyAptConfig(root)
  configureNpm(root)
  keepServersOnLoopback(root, ports.ssh)
  return { sshPort: ports.ssh }
}

/** The host's sources (deb822 and one-line) and the apt.conf.d snippets that set how apt reaches them. */
function copyAptConfig(root: string): void {
  const copy = (from: string) => {
    const to = join(root, from)
    mkdirSync(dirname(to), { recursive: true })
    copyFileSync(from, to)
  }
  const lists = join(APT, 'sources.list.d')
  const sources = existsSync(lists)
    ? readdirSync(lists)
        .filter((f) => /\.(sources|list)$/.test(f)) // disabled files keep other suffixes
        .map((f) => join(lists, f))
    : []
  if (sources.length || existsSync(join(APT, 'sources.list'))) {
    // Replace debootstrap's one-line sources.list with exactly the host's set (updates, security…).
    writeFileSync(join(root, APT, 'sources.list'), '')
    for (const f of sources) copy(f)
    if (existsSync(join(APT, 'sources.list'))) copy(join(APT, 'sources.list'))
  }
  // Keyrings the host's sources name (Signed-By:) that the rootfs lacks.
  for (const f of sources) {
    for (const m of readFileSync(f, 'utf8').matchAll(/^Signed-By:\s*(\/\S+)/gm))
      if (m[1] && existsSync(m[1]) && !existsSync(join(root, m[1]))) copy(m[1])
  }
  // Proxy, validity and retry settings: the Acquire:: family (other snippets are the host's own policy).
  const conf = join(APT, 'apt.conf.d')
  if (existsSync(conf))
    for (const f of readdirSync(conf)) {
      const p = join(conf, f)
      if (/^\s*Acquire::/m.test(readFileSync(p, 'utf8'))) copy(p)
    }
}

/**
 * `cafile=` in /etc/npmrc plus the bundle, as a user behind a TLS-intercepting proxy sets up a machine. The
 * bound npm is told that /etc/npmrc is its global config (the npm wrapper in nspawn.ts), as Debian's npm is.
 */
function configureNpm(root: string): void {
  const host = hostNpmConfig()
  const bundle = [host.cafile, '/etc/ssl/certs/ca-certificates.crt'].find(
    (f): f is string => !!f && existsSync(f),
  )
  const lines: string[] = []
  if (bundle) {
    mkdirSync(join(root, dirname(CONTAINER_CA_BUNDLE)), { recursive: true })
    copyFileSync(bundle, join(root, CONTAINER_CA_BUNDLE))
    lines.push(`cafile=${CONTAINER_CA_BUNDLE}`)
  }
  // The host's registry and proxy settings, never its credentials (tokens are not among these keys).
  for (const k of ['registry', 'proxy', 'https-proxy', 'noproxy', 'strict-ssl'] as const) {
    const v = host[k]
    if (v && v !== 'null') lines.push(`${k}=${v}`)
  }
  writeFileSync(join(root, 'etc', 'npmrc'), `${lines.join('\n')}\n`)
}

/** The machine's own npm configuration, as its npm reports it (`key=value` lines). */
function hostNpmConfig(): Record<string, string | undefined> {
  const keys = ['registry', 'proxy', 'https-proxy', 'noproxy', 'strict-ssl', 'cafile']
  const r = spawnSync('npm', ['config', 'get', ...keys], { encoding: 'utf8', cwd: '/' })
  if (r.status !== 0) return {}
  return Object.fromEntries(
    r.stdout
      .split('\n')
      .map((l) => /^([a-z-]+)=(.*)$/.exec(l.trim()))
      .flatMap((m) => (m?.[1] ? [[m[1], m[2]]] : [])),
  )
}

/**
 * The container shares the host's network, so every server apply installs would listen on the host's
 * interfaces: sshd on 22 and rpcbind on 111 (both pulled in by apply's packages). The machine's admin pins them
 * to the loopback before apply runs — configuration, not masking: the units still start and must work.
 */
function keepServersOnLoopback(root: string, sshPort: number): void {
  const sshd = join(root, 'etc', 'ssh', 'sshd_config.d')
  mkdirSync(sshd, { recursive: true })
  // Read before xoa's own drop-in (xoa.conf), which sets neither key.
  writeFileSync(
    join(sshd, '00-loopback.conf'),
    `# test host on a shared network: loopback only\nListenAddress 127.0.0.1:${sshPort}\n`,
  )
  const rpcbind = join(root, 'etc', 'systemd', 'system', 'rpcbind.socket.d')
  mkdirSync(rpcbind, { recursive: true })
  writeFileSync(
    join(rpcbind, 'loopback.conf'),
    '# test host on a shared network: the local socket only (NFS mounts are never made here)\n' +
      '[Socket]\nListenStream=\nListenDatagram=\nListenStream=/run/rpcbind.sock\n',
  )
}
