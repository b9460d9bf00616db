import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, test} from 'node:test'

import {assertHumanError, assertJsonError, parseJson} from './cli-helpers.js'
import {sandbox, waitFor} from './helpers.js'

const box = sandbox('restart')
after(() => box.cleanup())

function git(dir: string, ...args: string[]): void {
  execFileSync('git', ['-C', dir, ...args], {env: {...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t'}})
}

test('restart runs an exited agent again in the same worktree, with its command and note; refused while it runs or when unknown', async () => {
  const repo = join(box.home, 'repo')
  mkdirSync(repo)
  git(repo, 'init', '-q')
  git(repo, 'commit', '-q', '--allow-empty', '-m', 'start')
  const runs = join(box.home, 'runs')
  const keep = join(box.home, 'keep')
  // Each run leaves its directory in `runs`; once `keep` exists the program stays running.
  const command = `pwd >> ${runs}; [ -e ${keep} ] && exec sleep 1000; exit 3`
  const made = await box.cli(['new', 'worker', '--dir', repo, '--worktree', '--cmd', command, '--note', 'owns the cart', '--json'])
  assert.equal(made.code, 0, made.stderr)
  const before = parseJson(made)
  const exited = await waitFor(async () => parseJson((await box.cli(['ls', '--json']))).find((agent: any) => agent.status === 'exited'), 10_000, 'first run to exit')
  assert.equal(exited.exitCode, 3)

  writeFileSync(keep, '')
  const restarted = await box.cli(['restart', 'worker', '--json'])
  assert.equal(restarted.code, 0, restarted.stderr)
  const agent = parseJson(restarted)
  assert.equal(agent.status === 'exited', false)
  assert.equal(agent.exitCode, null)
  assert.deepEqual({dir: agent.dir, command: agent.command, note: agent.note, worktree: agent.worktree}, {dir: before.dir, command, note: 'owns the cart', worktree: before.worktree})
  const lines = await waitFor(() => {
    const text = readFileSync(runs, 'utf8').trim().split('\n')
    return text.length === 2 && text
  }, 10_000, 'second run')
  assert.deepEqual(lines, [before.dir, before.dir])
  assert.match(box.tmux(['display-message', '-p', '-t', '=worker:', '#{pane_dead} #{pane_current_command}']), /^0 sleep/)

  assertJsonError(await box.cli(['restart', 'worker', '--json']), 'AGENT_RUNNING', 1)
  assertHumanError(await box.cli(['restart', 'worker']), 'AGENT_RUNNING', 1, /still running/)
  assert.equal(readFileSync(runs, 'utf8').trim().split('\n').length, 2, 'a refused restart runs nothing')
  assertJsonError(await box.cli(['restart', 'nobody', '--json']), 'AGENT_NOT_FOUND', 1)
})
