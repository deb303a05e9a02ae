// Deep merge with xo-server's own semantics (app-conf): objects merge key by key, arrays merge index by index,
// anything else is replaced by the later value. A later layer can never delete a key.

type Plain = Record<string, unknown>

const isPlainObject = (v: unknown): v is Plain =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype

export function deepMerge(base: unknown, over: unknown): unknown {
  if (over === undefined) return clone(base)
  if (Array.isArray(base) && Array.isArray(over)) {
    const n = Math.max(base.length, over.length)
    return Array.from({ length: n }, (_, i) =>
      i < over.length ? deepMerge(base[i], over[i]) : clone(base[i]),
    )
  }
  if (isPlainObject(base) && isPlainObject(over)) {
    const out: Plain = {}
    for (const k of Object.keys(base)) define(out, k, clone(base[k]))
    for (const k of Object.keys(over)) define(out, k, deepMerge(out[k], over[k]))
    return out
  }
  return clone(over)
}

function clone(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(clone)
  if (isPlainObject(v)) {
    const out: Plain = {}
    for (const k of Object.keys(v)) define(out, k, clone(v[k]))
    return out
  }
  return v
}

// defineProperty, not assignment: a "__proto__" key from a user's settings stays plain data.
function define(o: Plain, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true })
}
