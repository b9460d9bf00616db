import {execFile} from 'node:child_process'

import {MaestroError} from './shared/errors.js'

/**
 * The only code that runs git. Every call is an argument array given to execFile, never a shell
 * string; refs and paths that come from a user are validated by the callers (see `assertRef`)
 * or placed after `--`, so that none can be read as an option.
 */

export class GitCommandError extends Error {
  constructor(
    readonly args: string[],
    readonly stderr: string,
    readonly exitCode: number | null,
  ) {
    super(`git ${args.join(' ')}: ${stderr.trim()}`)
  }
}

/**
 * Variables that would point git at another repository, index or work tree than the one named
 * by `-C` (as they are set inside a git hook, or by a user's shell): with them, an operation
 * meant for an agent's worktree could land in the user's own checkout.
 */
const REPOSITORY_VARIABLES = [
  'GIT_ALTERNATE_OBJECT_DIRECTORIES',
  'GIT_COMMON_DIR',
  'GIT_CONFIG',
  'GIT_CONFIG_PARAMETERS',
  'GIT_CONFIG_COUNT',
  'GIT_DIR',
  'GIT_GRAFT_FILE',
  'GIT_IMPLICIT_WORK_TREE',
  'GIT_INDEX_FILE',
  'GIT_NO_REPLACE_OBJECTS',
  'GIT_OBJECT_DIRECTORY',
  'GIT_PREFIX',
  'GIT_REPLACE_REF_BASE',
  'GIT_SHALLOW_FILE',
  'GIT_WORK_TREE',
]

export interface GitOptions {
  /** Extra environment, such as GIT_INDEX_FILE for a private index. */
  env?: Record<string, string>
  /** Exit codes that are answers rather than failures (e.g. 1 for "not found"). */
  okCodes?: number[]
}

export interface GitResult {
  stdout: string
  code: number
}

/** Turns an unexpected git failure into a MaestroError that says what git said. */
export function gitFailed(error: unknown): Error {
  if (error instanceof GitCommandError) return new MaestroError('GIT_FAILED', `git refused: ${error.stderr.trim() || `exit ${error.exitCode}`}`)
  return error as Error
}

export interface Repository {
  /** The top of the checkout `dir` is in. */
  root: string
  /** The git directory shared by every worktree of the repository. */
  commonDir: string
}

export interface FileChange {
  path: string
  /** Lines added and deleted; null for a binary file. */
  added: number | null
  deleted: number | null
}

export interface CommitInfo {
  sha: string
  subject: string
}

/**
 * git run with the environment its caller hands its children (Context.env), less
 * REPOSITORY_VARIABLES: a handle, as Tmux is one on a tmux server.
 */
export class Git {
  readonly #env: NodeJS.ProcessEnv

  constructor(env: NodeJS.ProcessEnv) {
    this.#env = {...env}
    for (const name of REPOSITORY_VARIABLES) delete this.#env[name]
    // Hooks and aliases may prompt; maestro is not there to answer.
    this.#env.GIT_TERMINAL_PROMPT = '0'
  }

  /** Runs `git -C dir …args`. Fails with GitCommandError, or GIT_FAILED when git is missing. */
  run(dir: string, args: string[], options: GitOptions = {}): Promise<GitResult> {
    const argv = ['-C', dir, ...args]
    return new Promise((resolve, reject) => {
      execFile('git', argv, {env: {...this.#env, ...options.env}, maxBuffer: 256 * 1024 * 1024, encoding: 'utf8'}, (error, stdout, stderr) => {
        if (!error) return resolve({stdout, code: 0})
        const code = typeof error.code === 'number' ? error.code : null
        if (error.code === 'ENOENT') {
          return reject(new MaestroError('GIT_FAILED', 'git is not installed or not on PATH (install git to use --worktree)'))
        }
        if (code !== null && options.okCodes?.includes(code)) return resolve({stdout, code})
        reject(new GitCommandError(args, stderr, code))
      })
    })
  }

  /**
   * A branch or base name a user gave: it may not start with "-" (it would read as an option) and
   * must be a name git accepts. Other checks (exists, resolves) are the callers'.
   */
  async assertBranchName(dir: string, branch: string): Promise<void> {
    const {code} = branch.startsWith('-') ? {code: 1} : await this.run(dir, ['check-ref-format', '--branch', branch], {okCodes: [1, 128]})
    if (code !== 0) throw new MaestroError('INVALID_ARGUMENT', `"${branch}" is not a valid branch name (see git check-ref-format)`, {branch})
  }

  /** The repository `dir` belongs to; NOT_A_REPOSITORY for a plain directory or a bare repository. */
  async repositoryOf(dir: string): Promise<Repository> {
    const probe = await this.run(dir, ['rev-parse', '--is-bare-repository', '--is-inside-work-tree'], {okCodes: [128]})
    const [bare, inside] = probe.stdout.trim().split('\n')
    if (probe.code !== 0 || bare === 'true' || inside !== 'true') {
      const why = probe.code !== 0 ? 'is not in a git repository' : bare === 'true' ? 'is a bare repository (it has no checkout to branch from)' : 'is not in a checkout'
      throw new MaestroError('NOT_A_REPOSITORY', `${dir} ${why}; --worktree needs --dir inside a git checkout`, {dir})
    }
    const {stdout} = await this.run(dir, ['rev-parse', '--path-format=absolute', '--show-toplevel', '--git-common-dir'])
    const [root, commonDir] = stdout.trim().split('\n')
    return {root, commonDir}
  }

  /** The commit `ref` names, or undefined when it names none. */
  async resolveCommit(dir: string, ref: string): Promise<string | undefined> {
    if (ref.startsWith('-')) return undefined
    const {stdout, code} = await this.run(dir, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`], {okCodes: [1, 128]})
    return code === 0 ? stdout.trim() : undefined
  }

  /** Where branch `name` points, or undefined when there is no such branch. */
  async branchTip(dir: string, branch: string): Promise<string | undefined> {
    const {stdout, code} = await this.run(dir, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`], {okCodes: [1, 128]})
    return code === 0 ? stdout.trim() : undefined
  }

  /** Creates `branch` at `base` and checks it out in a new worktree at `path`. */
  async addWorktree(repo: string, path: string, branch: string, base: string): Promise<void> {
    await this.run(repo, ['worktree', 'add', '--quiet', '-b', branch, '--', path, base])
  }

  /** Removes a worktree, even with changes in it: callers archive its changes first. */
  async removeWorktree(repo: string, path: string): Promise<void> {
    await this.run(repo, ['worktree', 'remove', '--force', '--force', '--', path])
  }

  /** Deletes `branch` only while it still points at `expected`, so a commit made meanwhile keeps it. */
  async deleteBranch(repo: string, branch: string, expected: string): Promise<void> {
    await this.run(repo, ['update-ref', '-d', `refs/heads/${branch}`, expected])
  }

  /** The values of a multi-valued config key of the repository (e.g. maestro.copy), in order. */
  async configValues(dir: string, key: string): Promise<string[]> {
    const {stdout} = await this.run(dir, ['config', '--get-all', key], {okCodes: [1]})
    return stdout.split('\n').filter(Boolean)
  }

  /**
   * A snapshot of everything in a worktree (tracked changes and untracked files, ignored ones
   * left out), as a tree object. It is built in a private copy of the worktree's index, so the
   * agent's own index, like everything else of the agent and the user, stays as it was.
   */
  async snapshotTree(path: string): Promise<string> {
    const {mkdtemp, copyFile, rm} = await import('node:fs/promises')
    const {tmpdir} = await import('node:os')
    const {join} = await import('node:path')
    const folder = await mkdtemp(join(tmpdir(), 'maestro-index-'))
    const index = join(folder, 'index')
    try {
      const {stdout: indexPath} = await this.run(path, ['rev-parse', '--path-format=absolute', '--git-path', 'index'])
      // A fresh worktree may have no index yet; git builds one from HEAD.
      await copyFile(indexPath.trim(), index).catch(async () => this.run(path, ['read-tree', 'HEAD'], {env: {GIT_INDEX_FILE: index}}))
      const env = {GIT_INDEX_FILE: index}
      await this.run(path, ['add', '--all', '--', ':/'], {env})
      return (await this.run(path, ['write-tree'], {env})).stdout.trim()
    } finally {
      await rm(folder, {recursive: true, force: true})
    }
  }

  /** Per-file line counts between two trees or commits. */
  async numstat(dir: string, from: string, to: string): Promise<FileChange[]> {
    const {stdout} = await this.run(dir, ['diff', '--numstat', '-z', '--no-renames', from, to, '--'])
    const fields = stdout.split('\0').filter(Boolean)
    return fields.map((field) => {
      const [added, deleted, path] = field.split('\t')
      return {path, added: added === '-' ? null : Number(added), deleted: deleted === '-' ? null : Number(deleted)}
    })
  }

  /** The diff between two trees or commits, as a patch or a --stat summary. */
  async diffText(dir: string, from: string, to: string, options: {stat?: boolean; color?: boolean} = {}): Promise<string> {
    const args = ['diff', '--no-renames', options.color ? '--color=always' : '--no-color']
    if (options.stat) args.push('--stat')
    else args.push('--binary')
    const {stdout} = await this.run(dir, [...args, from, to, '--'])
    return stdout
  }

  /** Commits reachable from `to` and not from `from`, oldest first. */
  async commitsBetween(dir: string, from: string, to: string): Promise<CommitInfo[]> {
    const {stdout} = await this.run(dir, ['log', '--reverse', '--format=%H%x00%s', `${from}..${to}`, '--'])
    return stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [sha, subject] = line.split('\0')
        return {sha, subject}
      })
  }

  async treeOf(dir: string, commit: string): Promise<string> {
    return (await this.run(dir, ['rev-parse', '--verify', `${commit}^{tree}`])).stdout.trim()
  }

  async headOf(dir: string): Promise<string> {
    return (await this.run(dir, ['rev-parse', '--verify', 'HEAD'])).stdout.trim()
  }

  /**
   * A mailbox of patches (git format-patch) from `base` to the worktree's snapshot: its commits,
   * then one more for the work not committed yet. `git am` on the base replays them as commits;
   * `git apply` on the base reproduces the files. The extra commit is an object no ref points
   * to: it changes no branch, index or file of anyone's.
   */
  async changesPatch(path: string, base: string, head: string, snapshot: string, label: string): Promise<string> {
    let tip = head
    if (snapshot !== (await this.treeOf(path, head))) {
      const identity = {GIT_AUTHOR_NAME: 'maestro', GIT_AUTHOR_EMAIL: 'maestro@localhost', GIT_COMMITTER_NAME: 'maestro', GIT_COMMITTER_EMAIL: 'maestro@localhost'}
      const message = `uncommitted work of ${label}\n\nChanges and untracked files that were not committed when maestro archived them.\n`
      tip = (await this.run(path, ['commit-tree', snapshot, '-p', head, '-m', message], {env: identity})).stdout.trim()
    }
    if (tip === base) return ''
    const {stdout} = await this.run(path, ['format-patch', '--stdout', '--binary', '--no-renames', '--no-signature', `${base}..${tip}`, '--'])
    return stdout
  }
}
