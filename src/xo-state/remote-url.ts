// The URL XO stores for a remote, from the spec's typed fields, in the shape XO's own formatter writes it
// (packages/xo-remote-parser/src/format.ts upstream): nfs://host[:port]:/path, smb://user:pass@domain\\host\0share\dir,
// s3[+http]://key:secret@host/bucket/path?allowUnauthorized=…#region, file:///path. Pure; the secret is passed in.
import type { RemoteSpec } from '../spec/xo-state.ts'

const clean = (p: string) =>
  p
    .split('/')
    .map((s) => s.trim())
    .filter(Boolean)
    .join('/')

/** The spec field holding the remote's secret file, when it has one. */
export function remoteSecretFile(r: RemoteSpec): { file: string; key: string } | undefined {
  if (r.type === 'smb') return { file: r.passwordFile, key: 'passwordFile' }
  if (r.type === 's3') return { file: r.secretAccessKeyFile, key: 'secretAccessKeyFile' }
  return undefined
}

export function remoteUrl(r: RemoteSpec, secret = ''): string {
  switch (r.type) {
    case 'file':
      return `file:///${clean(r.path)}`
    case 'nfs':
      return `nfs://${r.host}:${r.port !== undefined ? `${r.port}:` : ''}/${clean(r.path)}`
    case 'smb':
      return `smb://${r.username}:${secret}@${r.domain}\\\\${r.host}\0${clean(r.share).split('/').join('\\')}`
    case 's3': {
      const creds = `${encodeURIComponent(r.accessKeyId)}:${encodeURIComponent(secret)}@${r.host}`
      const query = r.allowUnauthorized ? `?allowUnauthorized=${JSON.stringify(true)}` : ''
      const region = r.region !== undefined ? `#${r.region}` : ''
      return `${r.https ? 's3' : 's3+http'}://${creds}/${clean(`${r.bucket}/${r.path}`)}${query}${region}`
    }
  }
}

/** What may be shown of a remote's URL: never the secret. */
export function remoteUrlShown(r: RemoteSpec): string {
  return remoteUrl(r, remoteSecretFile(r) ? '***' : '').replace('\0', '\\')
}
