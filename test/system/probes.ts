// Checks run inside the container with the bound-in host Node, so the rootfs needs no curl, procps or
// iproute2 (a fresh Debian has none of them). Credentials go in on stdin, never on an argv.
import type { Container, ExecResult } from '../harness/nspawn.ts'

/**
 * HTTPS GET to 127.0.0.1:PORT for HOSTNAME, verified against the CA file only (the generated certificate):
 * prints the status code on the first line, then the body. stdin: optional "user:password" for Basic auth.
 */
const HTTPS_GET = `
const [port, host, path, ca] = process.argv.slice(1)
const https = await import('node:https')
const fs = await import('node:fs')
const cred = fs.readFileSync(0, 'utf8').trim()
const req = https.request({
  // The name is checked against servername, the certificate against the CA file only.
  host: '127.0.0.1', port: Number(port), path, servername: host, ca: fs.readFileSync(ca),
  headers: cred ? { authorization: 'Basic ' + Buffer.from(cred).toString('base64') } : {},
}, (res) => {
  let body = ''
  res.setEncoding('utf8').on('data', (d) => (body += d)).on('end', () => {
    process.stdout.write(res.statusCode + '\\n' + body)
  })
})
req.on('error', (e) => { process.stderr.write(String(e)); process.exit(1) })
req.end()
`

export async function httpsGet(
  c: Container,
  a: { port: number; hostname: string; path: string; ca: string; credentials?: string },
): Promise<{ code: number; body: string; result: ExecResult }> {
  const result = await c.exec(
    ['node', '--input-type=module', '-e', HTTPS_GET, String(a.port), a.hostname, a.path, a.ca],
    { input: a.credentials ?? '' },
  )
  const [first, ...rest] = result.stdout.split('\n')
  return { code: result.status === 0 ? Number(first) : 0, body: rest.join('\n') || result.stderr, result }
}

/**
 * The container's processes that hold a TCP socket listening on PORT: LISTEN entries of /proc/net/tcp{,6}
 * matched by inode against the fds of every process in the container's PID namespace (the network is the
 * host's, so a listener of the host itself is not the container's). Prints "pid comm" lines.
 */
const LISTENERS = `
const fs = await import('node:fs')
const port = Number(process.argv[1])
const inodes = new Set()
for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
  for (const l of fs.readFileSync(f, 'utf8').split('\\n').slice(1)) {
    const c = l.trim().split(/\\s+/)
    if (c.length > 9 && c[3] === '0A' && parseInt(c[1].split(':').pop(), 16) === port) inodes.add(c[9])
  }
}
for (const pid of fs.readdirSync('/proc').filter((d) => /^\\d+$/.test(d))) {
  let fds = []
  try { fds = fs.readdirSync('/proc/' + pid + '/fd') } catch { continue }
  for (const fd of fds) {
    let t = ''
    try { t = fs.readlinkSync('/proc/' + pid + '/fd/' + fd) } catch { continue }
    const m = /^socket:\\[(\\d+)\\]$/.exec(t)
    if (m && inodes.has(m[1])) {
      console.log(pid, fs.readFileSync('/proc/' + pid + '/comm', 'utf8').trim())
      break
    }
  }
}
`

export async function listenersOn(c: Container, port: number): Promise<string[]> {
  const r = await c.exec(['node', '--input-type=module', '-e', LISTENERS, String(port)])
  if (r.status !== 0) throw new Error(`listener probe failed: ${r.stderr}`)
  return r.stdout.split('\n').filter(Boolean)
}
