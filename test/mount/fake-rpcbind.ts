// A slow fake rpcbind/NFS/mountd on one loopback TCP port: it answers every ONC RPC call, after `delayMs`,
// with success (GETPORT/GETADDR name this same port, NULL pings get an empty reply). mount.nfs then spends
// seconds between resolving its mount point and calling mount(2) — the window an attacker needs.
import { EventEmitter } from 'node:events'
import { createServer, type Server } from 'node:net'

const RPCBIND = 100000
const GETPORT = 3

function reply(call: Buffer, host: string, port: number): Buffer {
  const [xid, prog, vers, proc] = [0, 12, 16, 20].map((o) => call.readUInt32BE(o)) as [
    number,
    number,
    number,
    number,
  ]
  let body = Buffer.alloc(0)
  if (prog === RPCBIND && proc === GETPORT) {
    if (vers === 2) {
      body = Buffer.alloc(4)
      body.writeUInt32BE(port)
    } else {
      const uaddr = Buffer.from(`${host}.${port >> 8}.${port & 255}`)
      body = Buffer.alloc(4 + Math.ceil(uaddr.length / 4) * 4)
      body.writeUInt32BE(uaddr.length)
      uaddr.copy(body, 4)
    }
  }
  // xid, REPLY, MSG_ACCEPTED, AUTH_NONE verifier (flavor 0, length 0), SUCCESS.
  const head = Buffer.alloc(24)
  head.writeUInt32BE(xid, 0)
  head.writeUInt32BE(1, 4)
  const msg = Buffer.concat([head, body])
  const mark = Buffer.alloc(4)
  mark.writeUInt32BE((0x80000000 | msg.length) >>> 0)
  return Buffer.concat([mark, msg])
}

export interface FakeRpcbind {
  /** Emits 'call' with {prog, vers, proc} as each call arrives (before the delayed answer). */
  events: EventEmitter
  close(): Promise<void>
}

export async function fakeRpcbind(host: string, port: number, delayMs: number): Promise<FakeRpcbind> {
  const events = new EventEmitter()
  const server: Server = createServer((s) => {
    s.on('error', () => {})
    let buf = Buffer.alloc(0)
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d])
      while (buf.length >= 4) {
        const n = buf.readUInt32BE(0) & 0x7fffffff
        if (buf.length < 4 + n) break
        const call = buf.subarray(4, 4 + n)
        buf = buf.subarray(4 + n)
        events.emit('call', {
          prog: call.readUInt32BE(12),
          vers: call.readUInt32BE(16),
          proc: call.readUInt32BE(20),
        })
        const r = reply(call, host, port)
        setTimeout(() => s.writable && s.write(r), delayMs)
      }
    })
  })
  await new Promise<void>((res, rej) => server.once('error', rej).listen(port, host, res))
  return { events, close: () => new Promise((res) => server.close(() => res())) }
}
