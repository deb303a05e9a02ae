// A persistent bare git mirror of the upstream repository. Reusable: fetch, resolve a rev, read files at a
// rev, check a rev out into a directory (with its own .git), list the commits between two revs.
import { existsSync, mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { execa } from 'execa'
import { tool } from '../platform/tool.ts'

export type LogFn = (line: string) => void

export interface CommitInfo {
  rev: string
  /** Committer date, YYYY-MM-DD. */
  date: string
  subject: string
}

const COMMIT_FORMAT = '%H %cs %s'

function parseCommitLine(line: string): CommitInfo {
  return { rev: line.slice(0, 40), date: line.slice(41, 51), subject: line.slice(52) }
}

export class GitMirror {
  constructor(
    readonly dir: string,
    readonly log: LogFn = () => {},
  ) {}

  private async git(args: string[], opts: { input?: string; cwd?: string } = {}): Promise<string> {
    this.log(`$ git ${args.join(' ')}`)
    const r = await execa(tool('git'), args, {
      cwd: opts.cwd,
      input: opts.input,
      // Never wait for a credential prompt or a pager.
      env: { GIT_TERMINAL_PROMPT: '0', GIT_PAGER: 'cat' },
      stripFinalNewline: true,
      maxBuffer: 512 * 1024 * 1024,
      reject: false,
    })
    if (r.exitCode !== 0) {
      const why = String(r.stderr).trim().split('\n').at(-1) ?? ''
      throw new Error(`git ${args.filter((a) => !a.startsWith('-') && a !== this.dir)[0]} failed: ${why}`)
    }
    return r.stdout
  }

  private gitDir(args: string[], opts: { input?: string } = {}): Promise<string> {
    return this.git(['--git-dir', this.dir, ...args], opts)
  }

  exists(): boolean {
    return existsSync(`${this.dir}/HEAD`)
  }

  /** Create the mirror if needed and point it at url (a spec may switch to a fork). */
  async ensure(url: string): Promise<void> {
    if (!this.exists()) {
      mkdirSync(dirname(this.dir), { recursive: true })
      await this.git(['init', '--quiet', '--bare', this.dir])
      await this.gitDir(['remote', 'add', 'origin', url])
    } else if ((await this.gitDir(['remote', 'get-url', 'origin']).catch(() => '')) !== url) {
      await this.gitDir(['remote', 'set-url', 'origin', url]).catch(() =>
        this.gitDir(['remote', 'add', 'origin', url]),
      )
    }
  }

  /** Fetch every branch and tag; then, if `rev` is still unknown, that commit by id. */
  async fetch(rev?: string): Promise<void> {
    await this.gitDir([
      'fetch',
      '--quiet',
      '--prune',
      '--no-auto-gc',
      'origin',
      '+refs/heads/*:refs/heads/*',
      '+refs/tags/*:refs/tags/*',
    ])
    // A commit no branch or tag reaches (a PR head): ask for it by id; servers may refuse, resolve() then says so.
    if (rev && /^[0-9a-f]{40}$/.test(rev) && !(await this.hasCommit(rev)))
      await this.gitDir(['fetch', '--quiet', 'origin', rev]).catch((e) => this.log(String(e.message)))
  }

  async hasCommit(rev: string): Promise<boolean> {
    if (!this.exists()) return false
    try {
      await this.gitDir(['cat-file', '-e', `${rev}^{commit}`])
      return true
    } catch {
      return false
    }
  }

  /** The full commit id of a rev (commit id prefix, branch, tag); throws if unknown. */
  resolve(rev: string): Promise<string> {
    return this.gitDir(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`])
  }

  subject(rev: string): Promise<string> {
    return this.gitDir(['log', '-1', '--format=%s', rev])
  }

  /** Text of files at rev; missing files are absent from the result. */
  async readFiles(rev: string, paths: string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>()
    if (paths.length === 0) return out
    const buf = await execa(tool('git'), ['--git-dir', this.dir, 'cat-file', '--batch'], {
      input: paths.map((p) => `${rev}:${p}`).join('\n') + '\n',
      encoding: 'buffer',
      maxBuffer: 512 * 1024 * 1024,
    })
    const data = Buffer.from(buf.stdout as Uint8Array)
    let pos = 0
    for (const p of paths) {
      const nl = data.indexOf(10, pos)
      const header = data.subarray(pos, nl).toString()
      pos = nl + 1
      if (header.endsWith(' missing')) continue
      const size = Number(header.split(' ')[2])
      out.set(p, data.subarray(pos, pos + size).toString('utf8'))
      pos += size + 1
    }
    return out
  }

  /** Every path in the tree at rev. */
  async listFiles(rev: string): Promise<string[]> {
    return (await this.gitDir(['ls-tree', '-r', '--name-only', rev])).split('\n').filter(Boolean)
  }

  /** The nearest commit at or before rev whose subject matches an extended regexp, as [id, subject]. */
  async lastMatching(rev: string, grep: string): Promise<[string, string] | undefined> {
    const line = await this.gitDir(['log', '-1', '-E', `--grep=${grep}`, '--format=%H %s', rev])
    if (!line) return undefined
    const i = line.indexOf(' ')
    return [line.slice(0, i), line.slice(i + 1)]
  }

  /** Commits in `to` not in `from`, newest first, as id + subject. */
  async logBetween(from: string, to: string): Promise<{ rev: string; subject: string }[]> {
    const text = await this.gitDir(['log', '--format=%H %s', `${from}..${to}`])
    return text
      .split('\n')
      .filter(Boolean)
      .map((l) => ({ rev: l.slice(0, 40), subject: l.slice(41) }))
  }

  /** Commits reachable from `revs` whose subject matches an extended regexp, newest first. */
  async logMatching(revs: string[], grep: string): Promise<CommitInfo[]> {
    const text = await this.gitDir([
      'log',
      '-E',
      `--grep=${grep}`,
      `--format=${COMMIT_FORMAT}`,
      ...revs,
      '--',
    ])
    return text.split('\n').filter(Boolean).map(parseCommitLine)
  }

  /** Commits in `to` not in `from`, newest first, with their dates. */
  async logRange(from: string, to: string): Promise<CommitInfo[]> {
    const text = await this.gitDir(['log', `--format=${COMMIT_FORMAT}`, `${from}..${to}`, '--'])
    return text.split('\n').filter(Boolean).map(parseCommitLine)
  }

  /** Id, committer date (YYYY-MM-DD) and subject of one commit. */
  async commitInfo(rev: string): Promise<CommitInfo> {
    return parseCommitLine(await this.gitDir(['log', '-1', `--format=${COMMIT_FORMAT}`, rev, '--']))
  }

  /** Is `ancestor` reachable from `rev` (or equal to it)? */
  async isAncestor(ancestor: string, rev: string): Promise<boolean> {
    return this.gitDir(['merge-base', '--is-ancestor', ancestor, rev]).then(
      () => true,
      () => false,
    )
  }

  /**
   * A working tree of rev in dest with its own .git (XO's build runs `git rev-parse`), not depending on the
   * mirror afterwards. The objects are copied, not hard-linked: a hard link would share an inode between the
   * sealed, root-owned release and the cache the next build hands to the service account.
   */
  async checkout(rev: string, dest: string, url?: string): Promise<void> {
    await this.git(['clone', '--quiet', '--no-checkout', '--no-hardlinks', this.dir, dest])
    await this.git(['-c', 'advice.detachedHead=false', 'checkout', '--quiet', '--detach', rev], { cwd: dest })
    if (url) await this.git(['remote', 'set-url', 'origin', url], { cwd: dest })
  }
}
