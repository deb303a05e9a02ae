// A real HTTPS npm registry on loopback with a CA of its own, for the tests that prove the machine's npm
// configuration reaches every download: it serves one local package (packument + tarball) and passes every
// other request on to the registry this machine's npm uses, rewriting tarball URLs to itself, so npm and yarn
// fetch everything through it. It logs each request (path and authorization).
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer as createHttpServer } from 'node:http'
import { createServer, request as httpsRequest } from 'node:https'
import { type AddressInfo, connect, type Socket } from 'node:net'
import { join } from 'node:path'
import type { LockedDep } from '../fixtures/monorepo.ts'

export interface TestRegistry {
  url: string
  caFile: string
  /** Each request, with the client's port (to tell which came through the proxy). */
  requests: { path: string; auth?: string; fromPort?: number }[]
  dep: LockedDep
  close(): Promise<void>
}

const openssl = (dir: string, ...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' })

/** A CA and a certificate for 127.0.0.1 signed by it. */
function makeCerts(dir: string): { caFile: string; key: Buffer; cert: Buffer } {
  openssl(
    dir,
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=xoa test CA',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
  )
  openssl(
    dir,
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=127.0.0.1',
    '-keyout',
    'srv.key',
    '-out',
    'srv.csr',
  )
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\n')
  openssl(
    dir,
    'x509',
    '-req',
    '-in',
    'srv.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    'ext.cnf',
    '-out',
    'srv.pem',
  )
  return {
    caFile: join(dir, 'ca.pem'),
    key: readFileSync(join(dir, 'srv.key')),
    cert: readFileSync(join(dir, 'srv.pem')),
  }
}

/** The package this registry serves itself: its install script reports how yarn's npmrc looked. */
function makeTarball(dir: string, name: string): Buffer {
  const pkg = join(dir, 'pkg', 'package')
  mkdirSync(pkg, { recursive: true })
  writeFileSync(
    join(pkg, 'package.json'),
    JSON.stringify({ name, version: '1.0.0', main: 'index.js', scripts: { postinstall: 'node report.js' } }),
  )
  writeFileSync(join(pkg, 'index.js'), 'module.exports = 1\n')
  writeFileSync(
    join(pkg, 'report.js'),
    `const fs = require('fs')
const f = require('path').join(process.env.HOME, '.npmrc')
const st = fs.statSync(f)
const text = fs.readFileSync(f, 'utf8')
// yarn keeps the output of dependencies' scripts to itself: the report goes into the package dir.
fs.writeFileSync('report.txt', 'yarn npmrc: mode ' + (st.mode & 0o777).toString(8) + ' uid ' + st.uid + ' cafile ' + /^cafile=/m.test(text) + ' token ' + /_authToken=/.test(text) + '\\n')
`,
  )
  execFileSync('tar', ['-czf', 'dep.tgz', '-C', join(dir, 'pkg'), 'package'], { cwd: dir })
  return readFileSync(join(dir, 'dep.tgz'))
}

export async function startRegistry(dir: string, upstream: string): Promise<TestRegistry> {
  const { caFile, key, cert } = makeCerts(dir)
  const name = 'xoa-fixture-dep'
  const tgz = makeTarball(dir, name)
  const requests: TestRegistry['requests'] = []
  const up = upstream.replace(/\/?$/, '/')
  let self = ''
  const server = createServer({ key, cert }, (req, res) => {
    const path = req.url ?? '/'
    requests.push({ path, auth: req.headers.authorization, fromPort: req.socket.remotePort })
    const tarPath = `/${name}/-/${name}-1.0.0.tgz`
    if (path === tarPath) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(tgz)
      return
    }
    if (path === `/${name}`) {
      const dist = { tarball: `${self}${tarPath.slice(1)}`, integrity: dep.integrity, shasum: sha1 }
      const body = {
        name,
        'dist-tags': { latest: '1.0.0' },
        versions: { '1.0.0': { name, version: '1.0.0', dist } },
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body))
      return
    }
    // Everything else: from the machine's own registry, tarball URLs pointed back here.
    const fwd = httpsRequest(
      new URL(path.slice(1), up),
      { headers: { accept: req.headers.accept ?? '*/*', 'accept-encoding': 'identity' } },
      (u) => {
        const json = String(u.headers['content-type'] ?? '').includes('json')
        res.writeHead(u.statusCode ?? 502, {
          'content-type': u.headers['content-type'] ?? 'application/octet-stream',
        })
        if (!json) return void u.pipe(res)
        const chunks: Buffer[] = []
        u.on('data', (c: Buffer) => chunks.push(c))
        u.on('end', () => res.end(Buffer.concat(chunks).toString('utf8').replaceAll(up, self)))
      },
    )
    fwd.on('error', (e) => res.writeHead(502).end(String(e)))
    fwd.end()
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  self = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`
  const sha1 = createHash('sha1').update(tgz).digest('hex')
  const dep: LockedDep = {
    name,
    version: '1.0.0',
    resolved: `${self}${name}/-/${name}-1.0.0.tgz#${sha1}`,
    integrity: `sha512-${createHash('sha512').update(tgz).digest('base64')}`,
  }
  return {
    url: self,
    caFile,
    requests,
    dep,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections()
        server.close(() => r())
      }),
  }
}

export interface TestProxy {
  url: string
  /** host:port of each CONNECT, and the local port of the tunnel's connection to it. */
  tunnels: { target: string; port?: number }[]
  close(): Promise<void>
}

/** An HTTP CONNECT proxy on loopback (what a corporate proxy does for HTTPS), logging every tunnel. */
export async function startProxy(): Promise<TestProxy> {
  const tunnels: TestProxy['tunnels'] = []
  // A tunnel leaves the HTTP server's bookkeeping: close() must end them itself, or it never returns.
  const sockets = new Set<Socket>()
  const server = createHttpServer((_req, res) => res.writeHead(405).end())
  server.on('connect', (req, client: Socket, head: Buffer) => {
    const target = req.url ?? ''
    const [host, port] = target.split(':')
    if (host !== '127.0.0.1') return void client.end('HTTP/1.1 403 Forbidden\r\n\r\n') // loopback only
    sockets.add(client)
    const out = connect(Number(port), host, () => {
      tunnels.push({ target, port: out.localPort })
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      out.write(head)
      out.pipe(client)
      client.pipe(out)
    })
    sockets.add(out)
    const end = () => {
      out.destroy()
      client.destroy()
    }
    out.on('error', end)
    client.on('error', end)
    out.on('close', end)
    client.on('close', end)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    tunnels,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy()
        server.closeAllConnections()
        server.close(() => r())
      }),
  }
}
