// The broker's policy: a pure function from what xo-server asked `sudo` to run to exactly what root runs.
// Everything not explicitly recognised is refused, with a reason a person can act on.
import { checkCifsDevice, checkImagePath, checkNfsDevice, mountPointName } from './devices.ts'
import { checkOptions, type FsType } from './options.ts'
import { type Decision, FIXED_ENV, fdPath, type MountRequest, type PolicyContext } from './types.ts'

export const LIMITS = { args: 16, argLength: 4096, user: 256, password: 1024 } as const

const refuse = (reason: string): Decision => ({ allow: false, reason })

export function decide(request: MountRequest, ctx: PolicyContext): Decision {
  const { argv, env } = request
  if (argv.length === 0) return refuse('empty command')
  if (argv.length > LIMITS.args) return refuse(`more than ${LIMITS.args} arguments`)
  const long = argv.find((a) => a.length > LIMITS.argLength)
  if (long !== undefined) return refuse(`an argument is longer than ${LIMITS.argLength} characters`)
  const envProblem = checkEnv(env)
  if (envProblem) return refuse(envProblem)
  const [command, ...args] = argv
  switch (command) {
    case 'mount':
      return decideMount(args, env, ctx)
    case 'umount':
      return decideUmount(args, ctx)
    case 'findmnt':
      return decideFindmnt(args, ctx)
    case 'vhdimount':
      return decideVhdimount(args, ctx)
    case 'vhdiinfo':
      return decideVhdiinfo(args, ctx)
    default:
      return refuse(
        `command ${JSON.stringify(command)} is not brokered (only mount, umount, findmnt, vhdimount, vhdiinfo)`,
      )
  }
}

/** Only USER and PASSWD may arrive (mount.cifs reads them); anything else means a forged request. */
function checkEnv(env: Record<string, string>): string | undefined {
  for (const [k, v] of Object.entries(env)) {
    if (k !== 'USER' && k !== 'PASSWD')
      return `environment variable ${JSON.stringify(k)} is refused (only USER and PASSWD are forwarded)`
    if (/[\0\n\r]/.test(v)) return `environment variable ${k} contains NUL or a newline`
    const max = k === 'USER' ? LIMITS.user : LIMITS.password
    if (v.length > max) return `environment variable ${k} is longer than ${max} characters`
  }
  return undefined
}

/**
 * mount.cifs appends `,user=$USER` to the options after the ones it was given, and the kernel splits them on
 * commas, so a comma in USER adds options (`bob,uid=0,noforceuid`) that override the forced ones. PASSWD is
 * safe: mount.cifs doubles its commas, which the kernel reads back as one literal comma.
 */
export function checkSmbUser(user: string | undefined): string | undefined {
  if (user === undefined) return undefined
  const bad = /[,=]/.exec(user)
  if (bad)
    return `environment variable USER contains ${JSON.stringify(bad[0])}: mount.cifs would read the rest as mount options`
  return undefined
}

function decideMount(args: string[], env: Record<string, string>, ctx: PolicyContext): Decision {
  let options: string | undefined
  let type: string | undefined
  const positional: string[] = []
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    if (a === '-o' || a === '-t') {
      const value = args[i + 1]
      if (value === undefined) return refuse(`mount: ${a} needs a value`)
      if (a === '-o') {
        if (options !== undefined) return refuse('mount: -o given twice')
        options = value
      } else {
        if (type !== undefined) return refuse('mount: -t given twice')
        type = value
      }
      i++
    } else if (a.startsWith('-')) {
      return refuse(`mount: flag ${JSON.stringify(a)} is refused (only -o OPTIONS -t TYPE DEVICE DIR)`)
    } else positional.push(a)
  }
  if (options === undefined) return refuse('mount: -o OPTIONS is required')
  if (type === undefined) return refuse('mount: -t TYPE is required')
  if (type !== 'nfs' && type !== 'nfs4' && type !== 'cifs')
    return refuse(`mount: filesystem type ${JSON.stringify(type)} is refused (nfs, nfs4 or cifs only)`)
  if (positional.length !== 2)
    return refuse(`mount: expected DEVICE and DIR, got ${positional.length} positional arguments`)
  const [device, target] = positional as [string, string]
  const dev = type === 'cifs' ? checkCifsDevice(device) : checkNfsDevice(device)
  if (!dev.ok) return refuse(`mount: ${dev.reason}`)
  const name = mountPointName(target, ctx.mountsDir)
  if (!name.ok) return refuse(`mount: ${name.reason}`)
  const opts = checkOptions(type as FsType, options, ctx)
  if (!opts.ok) return refuse(`mount: ${opts.reason}`)
  // mount.cifs reads the user name and password from USER/PASSWD: they go to it through the environment
  // only. Other types get neither (execa in xo-server passes its own USER along, which means nothing here).
  const credentials: Record<string, string> = {}
  if (type === 'cifs') {
    const user = checkSmbUser(env.USER)
    if (user) return refuse(`mount: ${user}`)
    if (env.USER !== undefined) credentials.USER = env.USER
    if (env.PASSWD !== undefined) credentials.PASSWD = env.PASSWD
  }
  return {
    allow: true,
    exec: {
      file: ctx.tools.mount,
      // --no-canonicalize: the target is the pinned descriptor; mount(8) must not resolve it to a path again.
      argv: ['--no-canonicalize', '-t', type, '-o', opts.options, device, fdPath(3)],
      env: { ...FIXED_ENV, ...credentials },
      pins: [{ kind: 'mountPoint', name: name.name, childFd: 3 }],
    },
  }
}

function decideUmount(args: string[], ctx: PolicyContext): Decision {
  // -l (lazy) is the way out of a mount whose server hangs: detach now, clean up when it is no longer busy.
  const lazy = args[0] === '-l'
  if (lazy) args = args.slice(1)
  if (args.length !== 1)
    return refuse('umount: exactly one argument, the mount point, is accepted (after an optional -l)')
  const name = mountPointName(args[0]!, ctx.mountsDir)
  if (!name.ok) return refuse(`umount: ${name.reason}`)
  return {
    allow: true,
    exec: {
      file: ctx.tools.umount,
      // mountsDir is held as fd 3 and the name is a mount point (checked when pinning), which the kernel
      // will not let anyone rename or replace while it is mounted.
      argv: ['--no-canonicalize', ...(lazy ? ['-l'] : []), `${fdPath(3)}/${name.name}`],
      env: { ...FIXED_ENV },
      pins: [{ kind: 'mounted', name: name.name, childFd: 3 }],
    },
  }
}

function decideFindmnt(args: string[], ctx: PolicyContext): Decision {
  if (args.length !== 1) return refuse('findmnt: exactly one argument, the mount point, is accepted')
  const name = mountPointName(args[0]!, ctx.mountsDir)
  if (!name.ok) return refuse(`findmnt: ${name.reason}`)
  // Read-only: findmnt only reads the mount table, so the path is passed as is.
  return { allow: true, exec: { file: ctx.tools.findmnt, argv: [args[0]!], env: { ...FIXED_ENV }, pins: [] } }
}

function decideVhdimount(args: string[], ctx: PolicyContext): Decision {
  if (args.length !== 2) return refuse('vhdimount: exactly IMAGE and DIR are accepted (no flags)')
  const [image, target] = args as [string, string]
  const img = checkImagePath(image, [ctx.mountsDir, ctx.dataDir])
  if (!img.ok) return refuse(`vhdimount: ${img.reason}`)
  const name = mountPointName(target, ctx.mountsDir)
  if (!name.ok) return refuse(`vhdimount: ${name.reason}`)
  return {
    allow: true,
    exec: {
      file: ctx.tools.vhdimount,
      // The FUSE server runs as root; allow_other lets the service account read what it mounted.
      // The kernel forces nosuid,nodev on FUSE mounts by root as well.
      argv: ['-X', 'allow_other', fdPath(4), fdPath(3)],
      env: { ...FIXED_ENV },
      pins: [
        { kind: 'mountPoint', name: name.name, childFd: 3 },
        { kind: 'image', path: image, childFd: 4 },
      ],
    },
  }
}

function decideVhdiinfo(args: string[], ctx: PolicyContext): Decision {
  if (args.length !== 1) return refuse('vhdiinfo: exactly one argument, the image, is accepted (no flags)')
  const img = checkImagePath(args[0]!, [ctx.mountsDir, ctx.dataDir])
  if (!img.ok) return refuse(`vhdiinfo: ${img.reason}`)
  return {
    allow: true,
    exec: {
      file: ctx.tools.vhdiinfo,
      argv: [fdPath(3)],
      env: { ...FIXED_ENV },
      pins: [{ kind: 'image', path: args[0]!, childFd: 3 }],
    },
  }
}
