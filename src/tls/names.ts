// Which names the certificate must carry, decided from the spec alone (plus the machine's host name).
import { isIP } from 'node:net'
import type { Spec } from '../spec/schema.ts'

export interface CertNames {
  commonName: string
  dns: string[]
  ips: string[]
}

/** Listen addresses that mean "every interface": no client connects to them, so they are not names. */
const WILDCARD = new Set(['0.0.0.0', '::', '0:0:0:0:0:0:0:0', '[::]'])

/**
 * CN = xo.hostname or the machine's host name; SANs = that name, localhost and its loopback addresses, and the
 * listen address when it is a concrete one (a browser checks the name it dialled against the SANs only).
 */
export function desiredCertNames(spec: Spec, machineHostname: string): CertNames {
  const name = (spec.xo.hostname ?? machineHostname).toLowerCase()
  const dns: string[] = []
  const ips: string[] = []
  const add = (n: string) => {
    if (WILDCARD.has(n)) return
    if (isIP(n)) ips.includes(n) || ips.push(n)
    else dns.includes(n.toLowerCase()) || dns.push(n.toLowerCase())
  }
  add(name)
  add('localhost')
  add(spec.xo.host)
  add('127.0.0.1')
  add('::1')
  return { commonName: name, dns, ips }
}

/** Same names regardless of order and case (IPv6 written in full or short form compare equal). */
export function sameNames(a: CertNames, b: CertNames): boolean {
  const norm = (n: CertNames) =>
    JSON.stringify([
      n.commonName.toLowerCase(),
      [...new Set(n.dns.map((d) => d.toLowerCase()))].sort(),
      [...new Set(n.ips.map(canonicalIp))].sort(),
    ])
  return norm(a) === norm(b)
}

export function describeNames(n: CertNames): string {
  return `CN=${n.commonName}, SANs ${[...n.dns, ...n.ips].join(', ')}`
}

function canonicalIp(ip: string): string {
  if (isIP(ip) !== 6) return ip
  // Expand "::" so that "::1" and "0:0:0:0:0:0:0:1" compare equal; drop leading zeros of each group.
  const [head = '', tail] = ip.toLowerCase().split('::')
  const h = head ? head.split(':') : []
  const t = tail ? tail.split(':') : []
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t]
  return groups.map((g) => g.replace(/^0+(?=.)/, '')).join(':')
}
