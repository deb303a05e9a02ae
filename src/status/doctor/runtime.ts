// What a running XO depends on: Redis (answers, persists, never evicts), its users (never the default admin),
// the ports, the certificate, and finally a real health check. The seed's "Check Redis" and more, automated.
import { join } from 'node:path'
import { checkHealth, localEndpoint } from '../../run/health.ts'
import { checkPorts, isPortFree } from '../../run/ports.ts'
import { statePaths } from '../../spec/paths.ts'
import { daysLeft, RENEW_BEFORE_DAYS } from '../../tls/decide.ts'
import { observeCert } from '../../tls/inspect.ts'
import { ledgerPath, readLedger } from '../../tls/ledger.ts'
import { readAdminPassword } from '../admin-password.ts'
import { hostSpec } from '../host.ts'
import { DEFAULT_ADMIN_EMAIL } from '../redis-facts.ts'
import { isXoServer } from '../server.ts'
import {
  bySystemd,
  type Check,
  type DoctorContext,
  type Finding,
  fail,
  ok,
  skip,
  specArg,
  warn,
} from './types.ts'

const redisFixes = (ctx: DoctorContext) =>
  bySystemd(
    ctx,
    `xoa apply${specArg(ctx)} && systemctl restart redis-xo`,
    `restart xoa up (it rewrites ${ctx.layout.redis.config})`,
  )

export const redisCheck: Check = {
  name: 'redis',
  run(ctx) {
    const r = ctx.redis
    if (!r.answers)
      return [
        fail(
          'redis',
          `Redis does not answer on ${ctx.spec.redis.socket}: ${r.error ?? 'no PONG'}`,
          bySystemd(ctx, 'systemctl restart redis-xo; journalctl -u redis-xo -e', 'xoa up (it starts Redis)'),
        ),
      ]
    const out: Finding[] = [ok('redis', `answers on ${ctx.spec.redis.socket} (${r.keys} keys)`)]
    if (r.aof === false)
      out.push(
        fail('redis', "AOF is off: XO's database (users, remotes, jobs) is not persisted", redisFixes(ctx)),
      )
    if (r.evictionPolicy !== undefined && r.evictionPolicy !== 'noeviction')
      out.push(
        fail(
          'redis',
          `maxmemory-policy is ${r.evictionPolicy}: Redis may delete XO's data under memory pressure`,
          redisFixes(ctx),
        ),
      )
    if (r.aof === undefined || r.evictionPolicy === undefined)
      out.push(
        warn(
          'redis',
          'CONFIG GET is not allowed: cannot tell whether AOF is on and eviction off',
          `redis-cli -s ${ctx.spec.redis.socket} config get '*'`,
        ),
      )
    return out
  },
}

/** Create or reset the declared admin offline with the release's own tool; the password on stdin, not argv. */
export function recoverCommand(ctx: DoctorContext): string {
  const p = statePaths(ctx.spec)
  const cli = join(p.current, 'xo', 'packages', 'xo-server', 'dist', 'recover-account-cli.mjs')
  return `${p.currentNode} ${cli} ${ctx.spec.webAdmin.email} < ${p.adminPasswordFile}`
}

export const usersCheck: Check = {
  name: 'users',
  run(ctx) {
    const r = ctx.redis
    if (!r.answers) return [skip('users', 'Redis does not answer')]
    if (r.usersError !== undefined)
      return [
        warn(
          'users',
          `Redis answers, but XO's users could not be read: ${r.usersError}`,
          `redis-cli -s ${ctx.spec.redis.socket} --scan --pattern 'xo:user*'  # see what the keys hold`,
        ),
      ]
    const spec = ctx.spec
    const recover = recoverCommand(ctx)
    if (!r.users)
      return [
        fail(
          'users',
          'no XO user: xo-server would create admin@admin.net/admin on its first start',
          `xoa bootstrap${specArg(ctx)}`,
        ),
      ]
    const out: Finding[] = []
    if (r.defaultAdmin)
      out.push(
        fail(
          'users',
          `${DEFAULT_ADMIN_EMAIL} exists: anyone who knows the default password may sign in`,
          `sign in as ${spec.webAdmin.email} and delete ${DEFAULT_ADMIN_EMAIL} (Settings → Users)${r.declaredAdmin ? '' : `; first create ${spec.webAdmin.email}: ${recover}`}`,
        ),
      )
    else if (r.declaredAdmin === false)
      out.push(
        warn(
          'users',
          `the declared admin ${spec.webAdmin.email} does not exist (${r.users} other users)`,
          recover,
        ),
      )
    // Records encrypted by xo-server (redis.encryptCredentialDatabase): xoa cannot read the emails. Say what is
    // unknown, never guess and never fail on it; the health check still proves the declared admin signs in.
    const unknown = [
      r.defaultAdmin === undefined ? `whether ${DEFAULT_ADMIN_EMAIL} exists` : '',
      r.declaredAdmin === undefined ? `whether ${spec.webAdmin.email} exists` : '',
    ].filter(Boolean)
    if (unknown.length)
      out.push(
        skip(
          'users',
          `${r.users} user(s), ${r.encryptedUsers ?? 0} encrypted by xo-server (redis.encryptCredentialDatabase): ${unknown.join(' and ')} is unknown`,
        ),
      )
    if (out.length === 0)
      out.push(
        ok('users', `${r.users} user(s), ${spec.webAdmin.email} among them; no ${DEFAULT_ADMIN_EMAIL}`),
      )
    return out
  },
}

export const portsCheck: Check = {
  name: 'ports',
  async run(ctx) {
    const out: Finding[] = checkPorts(ctx.spec).map((p) =>
      p.severity === 'error'
        ? fail('ports', p.message, `change ${p.field} in ${ctx.specPath}`)
        : p.severity === 'warning'
          ? warn('ports', p.message, `edit firewall.ports in ${ctx.specPath}, then xoa apply${specArg(ctx)}`)
          : ok('ports', p.message),
    )
    for (const { listener: l, holders } of ctx.server.ports) {
      const others = holders.filter((h) => !isXoServer(h, ctx.server))
      if (others.length > 0) {
        const who = others.map((h) => `pid ${h.pid} (${h.command.slice(0, 60) || '?'})`).join(', ')
        out.push(
          fail(
            'ports',
            `port ${l.port} (${l.field}) is held by ${who}, not xo-server`,
            `stop ${who.split(' (')[0]}, or set ${l.field} to a free port`,
          ),
        )
        continue
      }
      if (holders.length > 0) {
        out.push(ok('ports', `port ${l.port} (${l.field}): xo-server listens`))
        continue
      }
      try {
        if (await isPortFree(l.host, l.port)) out.push(ok('ports', `port ${l.port} (${l.field}) is free`))
        else
          out.push(
            fail(
              'ports',
              `port ${l.port} (${l.field}) is taken by a process this user cannot see`,
              `run xoa doctor as root to name it, or set ${l.field} to a free port`,
            ),
          )
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code
        const why =
          code === 'EADDRNOTAVAIL'
            ? `${l.host} (xo.host) is not an address of this machine`
            : `cannot bind ${l.host}:${l.port}: ${code ?? (e as Error).message}`
        out.push(
          fail(
            'ports',
            why,
            code === 'EADDRNOTAVAIL'
              ? `set xo.host in ${ctx.specPath}`
              : `check ${l.field} in ${ctx.specPath}`,
          ),
        )
      }
    }
    return out
  },
}

export const certificateCheck: Check = {
  name: 'certificate',
  async run(ctx) {
    const { ssl } = ctx.spec.xo
    if (!ssl.enable) return [skip('certificate', 'HTTPS is off (xo.ssl.enable = false)')]
    const h = ctx.host
    let ledger: ReturnType<typeof readLedger> = []
    try {
      ledger = readLedger(h.path(ledgerPath(ctx.spec)))
    } catch (e) {
      return [fail('certificate', (e as Error).message, `fix or remove ${ledgerPath(ctx.spec)}`)]
    }
    const cert = `xoa cert${specArg(ctx)}`
    const provide = ssl.generate ? cert : `install your key at ${ssl.key} and certificate at ${ssl.cert}`
    const o = await observeCert({ key: h.path(ssl.key), cert: h.path(ssl.cert) }, ledger)
    switch (o.state) {
      case 'none':
        return [fail('certificate', `no key and no certificate at ${ssl.key}, ${ssl.cert}`, provide)]
      case 'key-only':
        return [fail('certificate', `a key but no certificate at ${ssl.cert}`, provide)]
      case 'cert-only':
        return [
          fail(
            'certificate',
            `a certificate but no key at ${ssl.key}`,
            `install the key of ${ssl.cert} at ${ssl.key}`,
          ),
        ]
      case 'unreadable':
        return [fail('certificate', o.reason, `replace the ${o.file} file with a readable, unencrypted PEM`)]
    }
    const left = daysLeft(o.cert, ctx.now)
    const whose = o.generatedByXoa ? 'self-signed by xoa' : 'yours'
    const renew = o.generatedByXoa ? cert : `renew your certificate and install it at ${ssl.cert}`
    if (!o.keyMatches)
      return [
        fail(
          'certificate',
          `${ssl.key} is not the key of ${ssl.cert}`,
          o.generatedByXoa
            ? `rm ${ssl.key} ${ssl.cert} && ${cert}`
            : `install the key that belongs to ${ssl.cert}`,
        ),
      ]
    if (o.cert.notAfter.getTime() <= ctx.now.getTime())
      return [
        fail(
          'certificate',
          `${ssl.cert} (${whose}) expired on ${o.cert.notAfter.toISOString().slice(0, 10)}`,
          renew,
        ),
      ]
    if (left < RENEW_BEFORE_DAYS)
      return [warn('certificate', `${ssl.cert} (${whose}) expires in ${left} days`, renew)]
    return [ok('certificate', `CN=${o.cert.names.commonName}, ${whose}, ${left} days left, matches its key`)]
  },
}

export const healthCheck: Check = {
  name: 'health',
  async run(ctx) {
    const s = ctx.server
    if (!s.running) {
      if (s.unit && (s.unit.unitFileState === 'enabled' || s.unit.activeState !== 'inactive'))
        return [
          fail(
            'health',
            `xo-server is ${s.unit.activeState} under systemd`,
            'systemctl restart xo-server; xoa logs -u xo-server',
          ),
        ]
      if (s.mode === 'systemd' && !s.unit)
        return [skip('health', 'xo-server is not running here (systemd is not running on this host)')]
      if (s.mode === 'systemd') return [warn('health', 'xo-server is stopped', 'systemctl start xo-server')]
      return [warn('health', 'xo-server is not running', `xoa up${specArg(ctx)}`)]
    }
    const password = readAdminPassword(ctx.spec, ctx.host)
    const ep = localEndpoint(hostSpec(ctx.spec, ctx.host))
    const admin = password ? { email: ctx.spec.webAdmin.email, password } : undefined
    const r = await checkHealth(ep, admin)
    if (!r.ping)
      return [
        fail(
          'health',
          `${ep.url}: ${r.reason}`,
          bySystemd(ctx, 'xoa logs -u xo-server', 'read the output of xoa up'),
        ),
      ]
    if (r.signIn === false)
      return [fail('health', `${ep.url}: ${r.reason}`, `reset the password: ${recoverCommand(ctx)}`)]
    if (r.signInSkipped)
      return [
        warn(
          'health',
          `${ep.url} answers ping; sign-in not checked: ${r.signInSkipped}`,
          ctx.spec.xo.ssl.enable
            ? `xoa cert${specArg(ctx)} (the password is sent only to the certificate in ${ctx.spec.xo.ssl.cert})`
            : 'set xo.ssl.enable = true: the password is sent only over TLS to the configured certificate',
        ),
      ]
    if (r.signIn === undefined)
      return [
        warn(
          'health',
          `${ep.url} answers ping; sign-in not tried (admin password file not readable here)`,
          `run xoa doctor as root`,
        ),
      ]
    return [ok('health', `${ep.url} answers ping; ${ctx.spec.webAdmin.email} signs in`)]
  },
}
