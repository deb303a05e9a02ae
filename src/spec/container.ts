// The spec inside the container image: the image's defaults (all state in one volume at /var/lib/xo, the
// release in the image under /opt/xoa/store), then the spec file at the default path when one is mounted,
// then a few environment variables for the common fields. Set by the image (XOA_CONTAINER=1) so every xoa
// command in the container — `xoa up`, the HEALTHCHECK's `xoa status`, `podman exec … xoa backup` — reads the
// same spec. Pure: the caller reads the file and passes the environment.

export const CONTAINER_SWITCH = 'XOA_CONTAINER'

/** The state volume: Redis data, the certificate, the secrets, xo-server's data, logs and backups. */
export const CONTAINER_STATE = '/var/lib/xo'
/** The image's release store, outside the volume, so a newer image is never shadowed by an old volume. */
export const CONTAINER_STORE = '/opt/xoa/store'

/**
 * Fixed ids, so files in the volume keep their owner when a newer image (whose packages may allocate other
 * system ids) runs on it.
 */
export const CONTAINER_UID = 10001
export const CONTAINER_GID = 10001

export const CONTAINER_DEFAULTS = {
  xo: {
    stateDir: CONTAINER_STATE,
    // Unprivileged ports: xo-server holds no capability, so it cannot bind below 1024 (map -p 443:8443).
    port: 8080,
    httpsPort: 8443,
    ssl: {
      dir: `${CONTAINER_STATE}/ssl`,
      key: `${CONTAINER_STATE}/ssl/key.pem`,
      cert: `${CONTAINER_STATE}/ssl/certificate.pem`,
    },
  },
  build: { storeDir: CONTAINER_STORE },
  service: { uid: CONTAINER_UID, gid: CONTAINER_GID },
  // No SSH admin in a container: `podman exec` is the way in.
  admin: { enable: false },
  redis: { dir: `${CONTAINER_STATE}/redis` },
}

/** The environment variables for the common fields, and where each one goes. */
export const CONTAINER_ENV_FIELDS = [
  { env: 'XOA_HOSTNAME', field: ['xo', 'hostname'], number: false },
  { env: 'XOA_HTTP_PORT', field: ['xo', 'port'], number: true },
  { env: 'XOA_HTTPS_PORT', field: ['xo', 'httpsPort'], number: true },
  { env: 'XOA_ADMIN_EMAIL', field: ['webAdmin', 'email'], number: false },
  { env: 'XOA_ADMIN_PASSWORD_FILE', field: ['webAdmin', 'passwordFile'], number: false },
] as const

export function inContainer(env: NodeJS.ProcessEnv): boolean {
  return env[CONTAINER_SWITCH] === '1'
}

/** Pure: the variables above that are set, for a child xoa (the mount broker) to read the same spec. */
export function specEnvironment(env: NodeJS.ProcessEnv): Record<string, string> {
  const names = [CONTAINER_SWITCH, ...CONTAINER_ENV_FIELDS.map((f) => f.env)]
  return Object.fromEntries(names.flatMap((n) => (env[n] === undefined ? [] : [[n, env[n]!]])))
}

type Doc = Record<string, unknown>

const isObject = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Pure: b over a, tables merged key by key, anything else (arrays included) replaced. */
export function mergeDocs(a: unknown, b: unknown): unknown {
  if (!isObject(a) || !isObject(b)) return b === undefined ? a : b
  const out: Doc = { ...a }
  for (const [k, v] of Object.entries(b)) out[k] = mergeDocs(a[k], v)
  return out
}

export interface ContainerDoc {
  doc: unknown
  /** "xo.httpsPort" → "XOA_HTTPS_PORT", for error messages about a value that came from the environment. */
  fromEnv: Map<string, string>
}

/**
 * Pure: defaults, then the spec file's document (undefined: none mounted), then the environment. The
 * environment wins over the file: it is what `podman run -e` changes without rebuilding or remounting.
 */
export function containerSpecDoc(file: unknown, env: NodeJS.ProcessEnv): ContainerDoc {
  let doc = mergeDocs(CONTAINER_DEFAULTS, file ?? {})
  const fromEnv = new Map<string, string>()
  for (const f of CONTAINER_ENV_FIELDS) {
    const raw = env[f.env]
    if (raw === undefined || raw === '') continue
    // A number only when it is one; anything else goes through as text, so the schema names the field.
    const value = f.number && /^\d+$/.test(raw) ? Number(raw) : raw
    let patch: unknown = value
    for (const k of [...f.field].reverse()) patch = { [k]: patch }
    doc = mergeDocs(doc, patch)
    fromEnv.set(f.field.join('.'), f.env)
  }
  return { doc, fromEnv }
}
