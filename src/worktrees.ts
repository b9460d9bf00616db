import {cp, lstat, readFile, readdir, rm, rmdir, stat} from 'node:fs/promises'
import {basename, dirname, isAbsolute, join, normalize, relative, resolve, sep} from 'node:path'

import type {Context, Dirs} from './context.js'
import {Git, gitFailed} from './git.js'
import type {AgentWorktree, WorktreeChanges} from './shared/agent.js'
import {MaestroError} from './shared/errors.js'
import {archiveAgent} from './store/archive.js'
import {ensurePrivateDir, writePrivateFile} from './store/files.js'

export type WorktreeInfo = AgentWorktree

/** What worktrees need of the context: where their records are kept, and git's environment. */
export type WorktreeContext = Pick<Context, 'configDir' | 'stateDir' | 'env'>

export interface WorktreeRequest {
  /** Default: maestro/<agent name>. */
  branch?: string
  /** Default: the repository's current HEAD. */
  base?: string
  /** Files and folders (relative to the repository) to copy into the worktree, on top of `git config maestro.copy`. */
  copy?: string[]
}

/** The session option that marks an agent as living in a worktree maestro made for it. */
export const WORKTREE_OPTION = '@maestro-worktree'

/** Where worktrees go without a `worktreeDir` setting: maestro's state directory, outside any checkout. */
export function defaultWorktreeDir(dirs: Dirs): string {
  return join(dirs.stateDir, 'worktrees')
}

function recordsDir(dirs: Dirs): string {
  return join(dirs.stateDir, 'worktree-records')
}

interface WorktreeRecord extends WorktreeInfo {
  agent: string
  createdAt: string
}

async function recordPath(dirs: Dirs, path: string): Promise<string> {
  const {createHash} = await import('node:crypto')
  return join(recordsDir(dirs), `${createHash('sha256').update(path).digest('hex').slice(0, 24)}.json`)
}

export function parseWorktreeOption(raw: string): WorktreeInfo | null {
  if (!raw) return null
  try {
    const {repo, path, branch, base} = JSON.parse(raw) as WorktreeInfo
    return {repo, path, branch, base}
  } catch {
    return null
  }
}

export interface MadeWorktree {
  info: WorktreeInfo
  /** Where the agent starts: the worktree, or the same subfolder of it that --dir named in the checkout. */
  agentDir: string
  /** Takes the worktree and its branch away again, when the agent could not be started. */
  undo(): Promise<void>
}

/**
 * Makes a worktree on a new branch for agent `name` from the checkout `dir` is in. Everything
 * that can be refused (not a repository, a bare one, a bad or existing branch, a base that does
 * not resolve, a --copy path that is missing or outside the checkout) is checked before anything
 * is made; a failure after that (git, copying) removes what was made.
 */
export async function makeWorktree(context: WorktreeContext, name: string, dir: string, request: WorktreeRequest, worktreeDir: string): Promise<MadeWorktree> {
  const git = new Git(context.env)
  const repo = await git.repositoryOf(dir)
  const branch = request.branch ?? `maestro/${name}`
  await git.assertBranchName(repo.root, branch)
  if (await git.branchTip(repo.root, branch)) {
    throw new MaestroError('BRANCH_EXISTS', `branch "${branch}" already exists in ${repo.root} (pick another with --branch)`, {branch})
  }
  const baseRef = request.base ?? 'HEAD'
  const base = await git.resolveCommit(repo.root, baseRef)
  if (!base) {
    throw new MaestroError('BASE_NOT_FOUND', `base "${baseRef}" is not a commit in ${repo.root} (name a branch, tag or commit with --base)`, {base: baseRef})
  }
  const copies = await copyList(repo.root, [...(await git.configValues(repo.root, 'maestro.copy')), ...(request.copy ?? [])])
  const path = await freePath(join(worktreeDir, `${basename(repo.root)}-${await shortHash(repo.commonDir)}`), name)
  const info: WorktreeInfo = {repo: repo.root, path, branch, base}
  await ensurePrivateDir(worktreeDir)
  try {
    await git.addWorktree(repo.root, path, branch, base)
  } catch (error) {
    // git cleans up what it began; the folder may be another maestro's that won a race for the name.
    throw gitFailed(error)
  }
  const undo = async () => {
    await git.removeWorktree(repo.root, path).catch(() => rm(path, {recursive: true, force: true}))
    await git.deleteBranch(repo.root, branch, base).catch(() => undefined)
    await rm(await recordPath(context, path), {force: true})
  }
  try {
    for (const item of copies) await cp(join(repo.root, item), join(path, item), {recursive: true, verbatimSymlinks: true, preserveTimestamps: true})
    await writePrivateFile(await recordPath(context, path), `${JSON.stringify({...info, agent: name, createdAt: new Date().toISOString()} satisfies WorktreeRecord, null, 2)}\n`)
  } catch (error) {
    await undo()
    throw error
  }
  const inside = relative(repo.root, dir)
  return {info, agentDir: inside && !inside.startsWith('..') ? join(path, inside) : path, undo}
}

/** Validates --copy paths: relative, inside the checkout, and present there. */
async function copyList(root: string, paths: string[]): Promise<string[]> {
  const result: string[] = []
  for (const given of paths) {
    const item = normalize(given).replace(/\/+$/, '')
    if (!item || item === '.' || isAbsolute(item) || item === '..' || item.startsWith(`..${sep}`) || item === '.git' || item.startsWith(`.git${sep}`)) {
      throw new MaestroError('INVALID_ARGUMENT', `--copy ${given}: name a file or folder inside the checkout, relative to its top (${root})`, {copy: given})
    }
    if (!(await lstat(join(root, item)).catch(() => undefined))) {
      throw new MaestroError('INVALID_ARGUMENT', `--copy ${given}: ${join(root, item)} does not exist`, {copy: given})
    }
    if (!result.includes(item)) result.push(item)
  }
  return result
}

async function shortHash(text: string): Promise<string> {
  const {createHash} = await import('node:crypto')
  return createHash('sha256').update(text).digest('hex').slice(0, 8)
}

/** `folder/name`, or `folder/name-2`… when a worktree kept from an earlier agent holds the name. */
async function freePath(folder: string, name: string): Promise<string> {
  for (let n = 1; ; n++) {
    const path = join(folder, n === 1 ? name : `${name}-${n}`)
    if (!(await stat(path).catch(() => undefined))) return path
  }
}

export type Changes = WorktreeChanges

interface Snapshot {
  head: string
  tree: string
}

async function snapshot(git: Git, info: WorktreeInfo): Promise<Snapshot> {
  try {
    const [head, tree] = await Promise.all([git.headOf(info.path), git.snapshotTree(info.path)])
    return {head, tree}
  } catch (error) {
    if (!(await stat(info.path).catch(() => undefined))) {
      throw new MaestroError('WORKTREE_NOT_FOUND', `worktree ${info.path} no longer exists`, {path: info.path})
    }
    throw gitFailed(error)
  }
}

/** What an agent changed against its base, including uncommitted and untracked files. */
export async function worktreeChanges(context: WorktreeContext, info: WorktreeInfo): Promise<Changes> {
  const git = new Git(context.env)
  return changesOf(git, info, await snapshot(git, info))
}

async function changesOf(git: Git, info: WorktreeInfo, {head, tree}: Snapshot): Promise<Changes> {
  const [commits, files, pending] = await Promise.all([
    git.commitsBetween(info.path, info.base, head),
    git.numstat(info.path, info.base, tree),
    git.numstat(info.path, head, tree),
  ])
  return {commits, files, uncommitted: pending.map((file) => file.path)}
}

/** The agent's changes against its base as a patch (or a --stat summary). */
export async function worktreeDiff(context: WorktreeContext, info: WorktreeInfo, options: {stat?: boolean; color?: boolean}): Promise<string> {
  const git = new Git(context.env)
  const {tree} = await snapshot(git, info)
  return git.diffText(info.path, info.base, tree, options)
}

/** "clean", or e.g. "2 commits, 3 files (+40 -2)". */
export function summarize(changes: Changes): string {
  const {commits, files} = changes
  if (commits.length === 0 && files.length === 0) return 'clean'
  const added = files.reduce((sum, file) => sum + (file.added ?? 0), 0)
  const deleted = files.reduce((sum, file) => sum + (file.deleted ?? 0), 0)
  const parts = []
  if (commits.length > 0) parts.push(`${commits.length} commit${commits.length === 1 ? '' : 's'}`)
  parts.push(`${files.length} file${files.length === 1 ? '' : 's'} (+${added} -${deleted})`)
  return parts.join(', ')
}

export interface SettledWorktree extends WorktreeInfo {
  /** True when the worktree and its branch are still there. */
  kept: boolean
  /** changes.patch in the archive, or null when there was nothing to archive. */
  patch: string | null
  summary: string
}

/**
 * What becomes of an agent's worktree when the agent ends: its changes go to `changes.patch` in
 * the archive folder first; then a worktree without changes or commits is removed with its
 * branch, and any other is kept unless `discard` says otherwise.
 */
export async function settleWorktree(context: WorktreeContext, info: WorktreeInfo, archive: string, options: {label: string; discard?: boolean}): Promise<SettledWorktree> {
  try {
    return await settle(context, info, archive, options)
  } catch (error) {
    // The agent has ended by now: its kill stands, and whatever could not be settled stays put.
    const exists = Boolean(await stat(info.path).catch(() => undefined))
    const patch = join(archive, 'changes.patch')
    return {
      ...info,
      kept: exists,
      patch: (await stat(patch).catch(() => undefined)) ? patch : null,
      summary: exists ? `left as it was: ${(error as Error).message}` : 'missing: removed outside maestro',
    }
  }
}

async function settle(context: WorktreeContext, info: WorktreeInfo, archive: string, options: {label: string; discard?: boolean}): Promise<SettledWorktree> {
  const git = new Git(context.env)
  const taken = await snapshot(git, info)
  const {head, tree} = taken
  const patch = await git.changesPatch(info.path, info.base, head, tree, options.label).catch((error) => {
    throw gitFailed(error)
  })
  const patchPath = patch ? join(archive, 'changes.patch') : null
  if (patchPath) await writePrivateFile(patchPath, patch)
  const clean = head === info.base && tree === (await git.treeOf(info.path, info.base))
  const summary = summarize(await changesOf(git, info, taken))
  if (!clean && !options.discard) return {...info, kept: true, patch: patchPath, summary}
  await dropWorktree(context, git, info, head)
  return {...info, kept: false, patch: patchPath, summary}
}

async function dropWorktree(dirs: Dirs, git: Git, info: WorktreeInfo, head: string): Promise<void> {
  try {
    await git.removeWorktree(info.repo, info.path)
    const tip = await git.branchTip(info.repo, info.branch)
    // A branch someone moved elsewhere meanwhile is theirs now: only the agent's own tip goes.
    if (tip === head) await git.deleteBranch(info.repo, info.branch, head)
  } catch (error) {
    throw gitFailed(error)
  }
  await rm(await recordPath(dirs, info.path), {force: true})
  // The repository's folder of worktrees goes with its last worktree.
  await rmdir(dirname(info.path)).catch(() => undefined)
}

export interface KeptWorktree extends WorktreeInfo {
  /** The agent it was made for (under its name then). */
  agent: string
  createdAt: string
  /** The agent working in it now, or null when none does (it was kept when its agent ended). */
  runningAgent: string | null
  /** "clean", a change summary, or "missing" when its folder was removed outside maestro. */
  changes: string
}

/**
 * The worktrees maestro made that are still there (or recorded), oldest first, with what is in
 * them; `running` maps the folder of each worktree an agent runs in to that agent's name.
 */
export async function listWorktrees(context: WorktreeContext, running: ReadonlyMap<string, string>): Promise<KeptWorktree[]> {
  const names = await readdir(recordsDir(context)).catch(() => [] as string[])
  const records = await Promise.all(
    names
      .filter((file) => file.endsWith('.json'))
      .map(async (file): Promise<KeptWorktree> => {
        const record = JSON.parse(await readFile(join(recordsDir(context), file), 'utf8')) as WorktreeRecord
        const exists = Boolean(await stat(record.path).catch(() => undefined))
        const changes = exists ? await worktreeChanges(context, record).then(summarize, (error: Error) => `unreadable: ${error.message}`) : 'missing'
        return {...record, runningAgent: running.get(record.path) ?? null, changes}
      }),
  )
  return records.sort((a, b) => a.createdAt.localeCompare(b.createdAt))
}

/** The recorded worktree at `pathOrBranch` (or holding that folder), else the one on that branch. */
async function findWorktree(context: WorktreeContext, running: ReadonlyMap<string, string>, pathOrBranch: string): Promise<KeptWorktree> {
  const all = await listWorktrees(context, running)
  const path = resolve(pathOrBranch)
  const byPath = all.find((record) => path === record.path || path.startsWith(`${record.path}${sep}`))
  if (byPath) return byPath
  const onBranch = all.filter((record) => record.branch === pathOrBranch)
  if (onBranch.length === 1) return onBranch[0]
  if (onBranch.length > 1) {
    throw new MaestroError('INVALID_ARGUMENT', `branch "${pathOrBranch}" has worktrees in ${onBranch.length} repositories; name one by its path (maestro worktree ls)`)
  }
  throw new MaestroError('WORKTREE_NOT_FOUND', `no worktree made by maestro at or on "${pathOrBranch}" (maestro worktree ls lists them)`, {worktree: pathOrBranch})
}

export interface RemovedWorktree extends WorktreeInfo {
  /** The archive folder holding changes.patch, or null when the worktree had no changes. */
  archive: string | null
}

/**
 * Removes a kept worktree and its branch, after archiving its changes as a patch (under the
 * archive of the agent that made it). A worktree an agent still runs in is refused.
 */
export async function removeKeptWorktree(context: WorktreeContext, running: ReadonlyMap<string, string>, pathOrBranch: string): Promise<RemovedWorktree> {
  const record = await findWorktree(context, running, pathOrBranch)
  const info: WorktreeInfo = {repo: record.repo, path: record.path, branch: record.branch, base: record.base}
  if (record.runningAgent) {
    throw new MaestroError(
      'WORKTREE_IN_USE',
      `agent "${record.runningAgent}" works in ${record.path}; end it with maestro kill ${record.runningAgent} (add --discard-worktree to remove the worktree too)`,
      {path: record.path, agent: record.runningAgent},
    )
  }
  if (record.changes === 'missing') {
    await rm(await recordPath(context, record.path), {force: true})
    return {...info, archive: null}
  }
  const git = new Git(context.env)
  const {head, tree} = await snapshot(git, info)
  const patch = await git.changesPatch(info.path, info.base, head, tree, record.agent).catch((error) => {
    throw gitFailed(error)
  })
  let archive: string | null = null
  if (patch) {
    archive = await archiveAgent(context, {name: record.agent, scrollback: '', note: '', agent: {worktree: info}})
    await writePrivateFile(join(archive, 'changes.patch'), patch)
  }
  await dropWorktree(context, git, info, head)
  return {...info, archive}
}
