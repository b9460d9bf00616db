import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, test} from 'node:test'

import {assertHumanError, assertJsonError, parseJson, sessionNames, startAgent} from './cli-helpers.js'
import {sandbox, waitFor} from './helpers.js'

const box = sandbox('worktree')
after(() => box.cleanup())

const repo = join(box.home, 'shop')
const worktreeRoot = join(box.home, 'trees')

function git(dir: string, ...args: string[]): string {
  return execFileSync('git', ['-C', dir, ...args], {encoding: 'utf8', env: {...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t'}})
}

/** Everything of the user's checkout that maestro must leave alone. */
function userCheckout() {
  return {
    head: git(repo, 'rev-parse', 'HEAD'),
    branch: git(repo, 'symbolic-ref', 'HEAD'),
    status: git(repo, 'status', '--porcelain=v1', '--untracked-files=all', '--ignored'),
    stash: git(repo, 'stash', 'list', '--format=%H'),
    index: createHash('sha256').update(readFileSync(join(repo, '.git', 'index'))).digest('hex'),
    files: readFileSync(join(repo, 'app.txt'), 'utf8'),
  }
}

let checkoutBefore: ReturnType<typeof userCheckout>

before(async () => {
  mkdirSync(repo)
  git(repo, 'init', '-q', '-b', 'main')
  writeFileSync(join(repo, 'app.txt'), 'line 1\n')
  writeFileSync(join(repo, '.gitignore'), '.env\n')
  writeFileSync(join(repo, 'binary.bin'), Buffer.from([0, 1, 2, 3]))
  git(repo, 'add', '-A')
  git(repo, 'commit', '-qm', 'first')
  git(repo, 'tag', 'v1')
  writeFileSync(join(repo, 'app.txt'), 'line 1\nline 2\n')
  git(repo, 'commit', '-qam', 'second')
  // The user is in the middle of work: a stash, a staged file, an edit, an untracked and an ignored file.
  writeFileSync(join(repo, 'app.txt'), 'stashed\n')
  git(repo, 'stash', '-q')
  writeFileSync(join(repo, 'staged.txt'), 'staged\n')
  git(repo, 'add', 'staged.txt')
  writeFileSync(join(repo, 'app.txt'), 'line 1\nline 2\nuser edit\n')
  writeFileSync(join(repo, 'untracked.txt'), 'mine\n')
  writeFileSync(join(repo, '.env'), 'SECRET=42\n')
  checkoutBefore = userCheckout()
  const result = await box.cli(['config', 'worktreeDir', worktreeRoot])
  assert.equal(result.code, 0, result.stderr)
})


function listed(name: string) {
  return box.cli(['ls', '--json']).then((result) => parseJson<any[]>(result).find((agent) => agent.name === name))
}

function branches(): string[] {
  return git(repo, 'branch', '--format=%(refname:short)').split('\n').filter(Boolean).sort()
}

function worktreePaths(): string[] {
  return git(repo, 'worktree', 'list', '--porcelain').split('\n').filter((line) => line.startsWith('worktree ')).map((line) => line.slice(9))
}

const base = () => git(repo, 'rev-parse', 'HEAD').trim()

test('two agents on one repository get their own folders and branches, and see each other\'s files only after a merge', async () => {
  await startAgent(box, 'two-a', "sh -c 'echo from a > a.txt; exec sleep 1000'", ['--dir', repo, '--worktree', '--copy', '.env'])
  await startAgent(box, 'two-b', "sh -c 'echo from b > b.txt; exec sleep 1000'", ['--dir', repo, '--worktree', '--branch', 'fix/b', '--base', 'v1'])
  const [a, b] = [await listed('two-a'), await listed('two-b')]
  assert.deepEqual(a.worktree, {repo, path: join(a.worktree.path), branch: 'maestro/two-a', base: base(), changes: a.worktree.changes})
  assert.equal(b.worktree.branch, 'fix/b')
  assert.equal(b.worktree.base, git(repo, 'rev-parse', 'v1^{commit}').trim())
  assert.notEqual(a.worktree.path, b.worktree.path)
  assert.ok(a.worktree.path.startsWith(`${worktreeRoot}/`), a.worktree.path)
  assert.equal(a.dir, a.worktree.path)
  assert.deepEqual(worktreePaths().slice(1).sort(), [a.worktree.path, b.worktree.path].sort())

  // --copy brings the ignored file; without it there is none.
  assert.equal(readFileSync(join(a.worktree.path, '.env'), 'utf8'), 'SECRET=42\n')
  assert.equal(existsSync(join(b.worktree.path, '.env')), false)
  assert.equal(readFileSync(join(b.worktree.path, 'app.txt'), 'utf8'), 'line 1\n')

  await waitFor(() => existsSync(join(a.worktree.path, 'a.txt')) && existsSync(join(b.worktree.path, 'b.txt')), 10_000, 'agents writing')
  assert.equal(existsSync(join(a.worktree.path, 'b.txt')), false)
  assert.equal(existsSync(join(b.worktree.path, 'a.txt')), false)
  git(b.worktree.path, 'add', 'b.txt')
  git(b.worktree.path, 'commit', '-qm', 'b works')
  git(a.worktree.path, 'merge', '-q', '--no-edit', 'fix/b')
  assert.equal(readFileSync(join(a.worktree.path, 'b.txt'), 'utf8'), 'from b\n')

  const ls = await box.cli(['ls'])
  assert.match(ls.stdout, /^two-b .* fix\/b +1 commit, 1 file \(\+1 -0\) /m)
  // The merge and b's commit, b.txt from the merge and its own untracked a.txt.
  assert.match(ls.stdout, /^two-a .* maestro\/two-a +2 commits, 2 files \(\+2 -0\) /m)
})

test('diff shows an agent\'s commits, uncommitted edits and untracked files against its base', async () => {
  await startAgent(box, 'differ', "sh -c 'echo agent line >> app.txt; printf x > new.txt; exec sleep 1000'", ['--dir', repo, '--worktree'])
  const {worktree} = await listed('differ')
  await waitFor(() => existsSync(join(worktree.path, 'new.txt')), 10_000, 'the agent writing')
  writeFileSync(join(worktree.path, 'committed.txt'), 'one\ntwo\n')
  git(worktree.path, 'add', 'committed.txt')
  git(worktree.path, 'commit', '-qm', 'add committed.txt')
  const indexBefore = readFileSync(join(git(worktree.path, 'rev-parse', '--git-dir').trim(), 'index'))

  const patch = await box.cli(['diff', 'differ'])
  assert.equal(patch.code, 0, patch.stderr)
  assert.match(patch.stdout, /^\+agent line$/m)
  assert.match(patch.stdout, /^\+\+\+ b\/new\.txt$/m)
  assert.match(patch.stdout, /^\+\+\+ b\/committed\.txt$/m)
  assert.doesNotMatch(patch.stdout, /\u001B\[/, 'no colour when not on a terminal')

  // git variables from the user's shell or a hook, pointing at the user's checkout, change nothing.
  const redirected = await box.cli(['diff', 'differ', '--json'], {env: {GIT_DIR: join(repo, '.git'), GIT_WORK_TREE: repo, GIT_INDEX_FILE: join(repo, '.git', 'index')}})
  assert.deepEqual(parseJson(redirected).uncommitted, ['app.txt', 'new.txt'])

  const stat = await box.cli(['diff', 'differ', '--stat'])
  assert.match(stat.stdout, /3 files changed, 4 insertions/)

  const json = parseJson(await box.cli(['diff', 'differ', '--json']))
  assert.deepEqual(json.commits.map((commit: {subject: string}) => commit.subject), ['add committed.txt'])
  assert.deepEqual(json.files, [
    {path: 'app.txt', added: 1, deleted: 0},
    {path: 'committed.txt', added: 2, deleted: 0},
    {path: 'new.txt', added: 1, deleted: 0},
  ])
  assert.deepEqual(json.uncommitted, ['app.txt', 'new.txt'])
  assert.deepEqual(json.worktree, {repo, path: worktree.path, branch: 'maestro/differ', base: base()})
  // Reading the changes left the agent's own index and status as they were.
  assert.deepEqual(readFileSync(join(git(worktree.path, 'rev-parse', '--git-dir').trim(), 'index')), indexBefore)
  assert.equal(git(worktree.path, 'status', '--porcelain'), ' M app.txt\n?? new.txt\n')

  // Colour on a terminal: script gives the CLI a pty.
  const coloured = execFileSync('script', ['-qfec', `${process.execPath} ${join(import.meta.dirname, '..', 'bin', 'run.js')} diff differ`, '/dev/null'], {
    encoding: 'utf8',
    env: {...box.env, NO_COLOR: ''},
  })
  assert.match(coloured, /\u001B\[32m\+\u001B\[m\u001B\[32magent line/)
})

test('a plain agent has no worktree: ls --json says null, and diff says so', async () => {
  await startAgent(box, 'plain', 'sleep 1000')
  assert.equal((await listed('plain')).worktree, null)
  assertHumanError(await box.cli(['diff', 'plain']), 'NO_WORKTREE', 2, /no worktree/)
  assertJsonError(await box.cli(['diff', 'nobody', '--json']), 'AGENT_NOT_FOUND', 1)
})

test('kill removes a clean agent\'s worktree and branch, and writes no patch', async () => {
  await startAgent(box, 'tidy', 'sleep 1000', ['--dir', repo, '--worktree'])
  const {worktree} = await listed('tidy')
  const result = parseJson(await box.cli(['kill', 'tidy', '--json']))
  assert.equal(result[0].worktree.kept, false)
  assert.equal(result[0].worktree.patch, null)
  assert.equal(existsSync(worktree.path), false)
  assert.ok(!branches().includes('maestro/tidy'))
  assert.ok(!worktreePaths().includes(worktree.path))
  assert.equal(existsSync(join(result[0].archive, 'changes.patch')), false)
})

test('kill keeps a dirty agent\'s worktree and branch, and its changes.patch replays the work on a fresh clone', async () => {
  await startAgent(box, 'busy', "sh -c 'echo busy line >> app.txt; printf \"untracked\\n\" > fresh.txt; exec sleep 1000'", ['--dir', repo, '--worktree'])
  const {worktree} = await listed('busy')
  await waitFor(() => existsSync(join(worktree.path, 'fresh.txt')), 10_000, 'the agent writing')
  writeFileSync(join(worktree.path, 'binary.bin'), Buffer.from([0, 1, 2, 3, 255, 0]))
  git(worktree.path, 'commit', '-qam', 'busy commit')
  writeFileSync(join(worktree.path, 'app.txt'), `${readFileSync(join(worktree.path, 'app.txt'), 'utf8')}uncommitted\n`)
  const expected = {
    app: readFileSync(join(worktree.path, 'app.txt'), 'utf8'),
    fresh: readFileSync(join(worktree.path, 'fresh.txt'), 'utf8'),
    binary: readFileSync(join(worktree.path, 'binary.bin')),
  }

  const result = await box.cli(['kill', 'busy'])
  assert.equal(result.code, 0, result.stderr)
  assert.match(result.stdout, new RegExp(`kept worktree ${worktree.path} on branch maestro/busy: 1 commit, 3 files`))
  const patch = /changes in (\S+changes\.patch)/.exec(result.stdout)?.[1]
  assert.ok(patch && existsSync(patch), result.stdout)
  assert.ok(existsSync(join(worktree.path, 'fresh.txt')))
  assert.ok(branches().includes('maestro/busy'))

  for (const how of ['am', 'apply']) {
    const clone = join(box.home, `clone-${how}`)
    execFileSync('git', ['clone', '-q', repo, clone])
    git(clone, 'checkout', '-q', worktree.base)
    git(clone, how, how === 'am' ? '-q' : '--index', patch!)
    assert.equal(readFileSync(join(clone, 'app.txt'), 'utf8'), expected.app, how)
    assert.equal(readFileSync(join(clone, 'fresh.txt'), 'utf8'), expected.fresh, how)
    assert.deepEqual(readFileSync(join(clone, 'binary.bin')), expected.binary, how)
  }

  const kept = parseJson<any[]>(await box.cli(['worktree', 'ls', '--json'])).find((entry) => entry.path === worktree.path)
  assert.equal(kept.runningAgent, null)
  assert.equal(kept.agent, 'busy')
  assert.match(kept.changes, /^1 commit, 3 files/)

  const removed = await box.cli(['worktree', 'rm', 'maestro/busy'])
  assert.equal(removed.code, 0, removed.stderr)
  assert.match(removed.stdout, /changes are in \S+changes\.patch/)
  assert.equal(existsSync(worktree.path), false)
  assert.ok(!branches().includes('maestro/busy'))
  assert.ok(!parseJson<any[]>(await box.cli(['worktree', 'ls', '--json'])).some((entry) => entry.path === worktree.path))
})

test('kill --discard-worktree removes a worktree with work in it, after archiving the patch', async () => {
  await startAgent(box, 'scrap', "sh -c 'echo scrap > scrap.txt; exec sleep 1000'", ['--dir', repo, '--worktree'])
  const {worktree} = await listed('scrap')
  await waitFor(() => existsSync(join(worktree.path, 'scrap.txt')), 10_000, 'the agent writing')
  assertHumanError(await box.cli(['worktree', 'rm', worktree.path]), 'WORKTREE_IN_USE', 1, /maestro kill scrap/)
  const [killed] = parseJson(await box.cli(['kill', 'scrap', '--discard-worktree', '--json']))
  assert.equal(killed.worktree.kept, false)
  assert.match(readFileSync(killed.worktree.patch, 'utf8'), /^\+scrap$/m)
  assert.equal(existsSync(worktree.path), false)
  assert.ok(!branches().includes('maestro/scrap'))
})

test('kill of an agent whose worktree was deleted outside maestro still ends it, and says so', async () => {
  await startAgent(box, 'gone', 'sleep 1000', ['--dir', repo, '--worktree'])
  const {worktree} = await listed('gone')
  execFileSync('rm', ['-rf', worktree.path])
  const result = await box.cli(['kill', 'gone'])
  assert.equal(result.code, 0, result.stderr)
  assert.match(result.stdout, /missing: removed outside maestro/)
  assert.ok(!sessionNames(box).includes('gone'))
  git(repo, 'worktree', 'prune')
  git(repo, 'branch', '-q', '-D', 'maestro/gone')
})

test('two new --worktree of one name at once: one agent starts, the other fails and takes nothing of it away', async () => {
  const results = await Promise.all([1, 2].map(() => box.cli(['new', 'race', '--cmd', 'sleep 1000', '--dir', repo, '--worktree'])))
  // The loser meets the winner's session, branch or folder first, depending on timing.
  assert.deepEqual(results.map((result) => result.code === 0).sort(), [false, true], results.map((result) => result.stderr).join('\n'))
  assert.match(results.find((result) => result.code !== 0)!.stderr, /\[(AGENT_EXISTS|BRANCH_EXISTS|GIT_FAILED)\]/)
  const {worktree} = await listed('race')
  assert.ok(existsSync(join(worktree.path, 'app.txt')), 'the winner keeps its worktree')
  assert.equal(git(worktree.path, 'rev-parse', '--abbrev-ref', 'HEAD').trim(), 'maestro/race')
  assert.equal(parseJson(await box.cli(['kill', 'race', '--json']))[0].worktree.kept, false)
})

test('every refused new --worktree creates nothing: no session, branch, worktree or folder', async () => {
  const plainDir = join(box.home, 'plain-dir')
  mkdirSync(plainDir)
  const bare = join(box.home, 'bare.git')
  execFileSync('git', ['init', '-q', '--bare', bare])
  const state = () => ({sessions: sessionNames(box), branches: branches(), worktrees: worktreePaths(), trees: readdirSync(worktreeRoot).flatMap((folder) => readdirSync(join(worktreeRoot, folder)))})
  await startAgent(box, 'taken', 'sleep 1000')
  const before = state()
  const cases: [string[], string, number, RegExp][] = [
    [['--dir', plainDir, '--worktree'], 'NOT_A_REPOSITORY', 2, /not in a git repository/],
    [['--dir', bare, '--worktree'], 'NOT_A_REPOSITORY', 2, /bare repository/],
    [['--dir', repo, '--worktree', '--branch', 'main'], 'BRANCH_EXISTS', 2, /"main" already exists/],
    [['--dir', repo, '--worktree', '--base', 'no-such-ref'], 'BASE_NOT_FOUND', 2, /"no-such-ref" is not a commit/],
    [['--dir', repo, '--worktree', '--base=--output=/tmp/x'], 'BASE_NOT_FOUND', 2, /is not a commit/],
    [['--dir', repo, '--worktree', '--branch', '-D'], 'INVALID_ARGUMENT', 2, /not a valid branch name/],
    [['--dir', repo, '--worktree', '--branch', 'a..b'], 'INVALID_ARGUMENT', 2, /not a valid branch name/],
    [['--dir', repo, '--worktree', '--copy', 'missing.env'], 'INVALID_ARGUMENT', 2, /does not exist/],
    [['--dir', repo, '--worktree', '--copy', '../outside'], 'INVALID_ARGUMENT', 2, /inside the checkout/],
    [['--dir', repo, '--branch', 'x'], 'INVALID_ARGUMENT', 2, /--worktree/],
  ]
  for (const [args, code, exit, message] of cases) {
    assertHumanError(await box.cli(['new', 'refused', '--cmd', 'sleep 1000', ...args]), code, exit, message)
  }
  assertJsonError(await box.cli(['new', 'refused', '--cmd', 'sleep 1000', '--dir', plainDir, '--worktree', '--json']), 'NOT_A_REPOSITORY', 2)
  // A taken name is refused before any worktree is made.
  assertHumanError(await box.cli(['new', 'taken', '--cmd', 'sleep 1000', '--dir', repo, '--worktree']), 'AGENT_EXISTS', 1)
  assert.deepEqual(state(), before)
})

test('worktree rm of something maestro did not make is refused', async () => {
  assertHumanError(await box.cli(['worktree', 'rm', 'main']), 'WORKTREE_NOT_FOUND', 1)
  assertHumanError(await box.cli(['worktree', 'rm', repo]), 'WORKTREE_NOT_FOUND', 1)
  assert.ok(existsSync(join(repo, 'app.txt')))
})

test('the user\'s checkout (branch, HEAD, index, working tree, stash) is the same after all of the above', () => {
  assert.deepEqual(userCheckout(), checkoutBefore)
})
