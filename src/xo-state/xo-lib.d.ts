// xo-lib ships no types: the part of its client xoa uses (packages/xo-lib upstream, on jsonrpc-websocket-client).
// It is CommonJS with `exports.default = Xo`; imported from ESM (Node, and esbuild in a type=module package) the
// default import is the whole exports object, so the class is its `default`.
declare module 'xo-lib' {
  class Xo {
    constructor(opts: { url: string })
    open(): Promise<void>
    close(): Promise<void>
    /** `session.signIn` with these credentials. */
    signIn(credentials: { email: string; password: string }): Promise<void>
    call(method: string, params?: object): Promise<unknown>
    on(event: string, listener: (...args: unknown[]) => void): this
    readonly status: 'open' | 'closed' | 'connecting'
    /** What jsonrpc-websocket-client hands to `new WebSocket(url, protocols, opts)` (ws). */
    _opts: object
  }
  const xoLib: { default: typeof Xo }
  export default xoLib
}
