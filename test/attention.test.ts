import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {chmodSync, mkdirSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, test} from 'node:test'

import {StateMemory} from '../src/attention/state.js'
import type {SessionInfo} from '../src/tmux/sessions.js'
import {BIN, ROOT, sandbox, waitFor} from './helpers.js'

const box = sandbox('attention')
const fakeBin = join(box.home, 'bin')
const fixtures = join(ROOT, 'test', 'fixtures', 'screens')
// Fake agent programs on PATH: each prints a recorded screen of the real program, then stays.
const env = {PATH: `${fakeBin}:${process.env.PATH}`}
const cli = (args: string[]) => box.cli(args, {env})

interface Listed {
  name: string
  state: string
  stateSource: string
  stateMessage: string | null
  stateSince: string
}

async function listed(): Promise<Map<string, Listed>> {
  const result = await cli(['ls', '--json'])
  assert.equal(result.code, 0, result.stderr)
  return new Map((JSON.parse(result.stdout) as Listed[]).map((agent) => [agent.name, agent]))
}

const screens = {
  'claude-permission': ['claude', 'waiting'],
  'claude-working': ['claude', 'working'],
  'claude-idle': ['claude', 'idle'],
  'codex-approval': ['codex', 'waiting'],
  'aider-question': ['aider', 'waiting'],
  'aider-prompt': ['aider', 'idle'],
} as const

before(async () => {
  mkdirSync(fakeBin)
  for (const program of ['claude', 'codex', 'aider']) {
    writeFileSync(join(fakeBin, program), '#!/bin/sh\nclear\ncat "$1"\nexec sleep 1000\n')
    chmodSync(join(fakeBin, program), 0o755)
  }
  const started = await Promise.all([
    ...Object.entries(screens).map(([fixture, [program]]) => cli(['new', fixture, '--cmd', `${program} ${join(fixtures, `${fixture}.txt`)}`])),
    cli(['new', 'claude-silent', '--cmd', 'claude /dev/null']),
    cli(['new', 'plain-quiet', '--cmd', 'sleep 1000']),
    cli(['new', 'plain-shell', '--cmd', 'sh']),
  ])
  for (const result of started) assert.equal(result.code, 0, result.stderr)
})
after(() => box.cleanup())

test('recorded screens of Claude Code, Codex and Aider are recognised', async () => {
  const agents = await waitFor(async () => {
    const all = await listed()
    return Object.entries(screens).every(([name, [, state]]) => all.get(name)?.state === state) && all
  }, 15_000, 'every recorded screen to be recognised')
  for (const [name] of Object.entries(screens)) assert.equal(agents.get(name)?.stateSource, 'screen', name)
  assert.equal(agents.get('claude-permission')?.stateMessage, 'asks for permission')
})

test('a quiet known agent with an unrecognised screen is unknown, a quiet plain program is idle', async () => {
  const agents = await waitFor(async () => {
    const all = await listed()
    return all.get('claude-silent')?.state !== 'working' && all.get('plain-quiet')?.state !== 'working' && all
  }, 9000, 'the agents to fall quiet')
  assert.equal(agents.get('claude-silent')?.state, 'unknown')
  assert.equal(agents.get('claude-silent')?.stateSource, 'screen')
  assert.equal(agents.get('plain-quiet')?.state, 'idle')
  assert.equal(agents.get('plain-quiet')?.stateSource, 'activity')
  const human = await cli(['ls'])
  assert.match(human.stdout, /^NAME\s+STATE\s+SINCE\s+SOURCE/m)
  assert.match(human.stdout, /^claude-silent\s+unknown\s+\d+s\s+screen: claude screen not recognised/m)
})

test('a report wins until the screen changes, and keeps its time', async () => {
  const reported = await cli(['report', 'waiting', '--message', 'needs a decision', '--agent', 'plain-quiet', '--json'])
  assert.equal(reported.code, 0, reported.stderr)
  const first = (await listed()).get('plain-quiet')!
  assert.equal(first.state, 'waiting')
  assert.equal(first.stateSource, 'report')
  assert.equal(first.stateMessage, 'needs a decision')
  await new Promise((resolve) => setTimeout(resolve, 1200))
  assert.equal((await listed()).get('plain-quiet')?.stateSince, first.stateSince, 'the state keeps the time it began')

  assert.equal((await cli(['report', 'waiting', '--agent', 'plain-shell'])).code, 0)
  await new Promise((resolve) => setTimeout(resolve, 1100))
  assert.equal((await cli(['send', 'plain-shell', 'echo screen-changed'])).code, 0)
  const after = await waitFor(async () => {
    const agent = (await listed()).get('plain-shell')
    return agent?.stateSource !== 'report' && agent
  }, 3000, 'the report to give way')
  assert.equal(after.state, 'working')
  assert.equal(after.stateSource, 'activity')
})

test('a report survives a redraw of the same screen at another size', async () => {
  // Like an agent program, this one redraws its screen whenever its window changes size.
  const redraws = `trap 'clear; echo approve the migration?' WINCH; clear; echo approve the migration?; while :; do sleep 0.2; done`
  assert.equal((await cli(['new', 'redrawer', '--cmd', `bash -c "${redraws}"`])).code, 0)
  await waitFor(() => box.tmux(['capture-pane', '-p', '-t', '=redrawer:']).includes('approve'), 3000, 'the first screen')
  assert.equal((await cli(['report', 'waiting', '--agent', 'redrawer'])).code, 0)
  await new Promise((resolve) => setTimeout(resolve, 1100))
  box.tmux(['resize-window', '-t', '=redrawer:', '-x', '61', '-y', '17'])
  await waitFor(() => box.tmux(['display-message', '-p', '-t', '=redrawer:', '#{window_activity}']).trim() > String(Math.floor(Date.now() / 1000) - 1), 3000, 'the redraw')
  const agent = (await listed()).get('redrawer')
  assert.equal(agent?.state, 'waiting')
  assert.equal(agent?.stateSource, 'report')
})

test('ls reads a screen again when the screen rules change, however recently it read that screen', async () => {
  assert.equal((await cli(['new', 'orders', '--cmd', 'sh -c "echo ready for orders; exec sleep 1000"'])).code, 0)
  await waitFor(() => box.tmux(['capture-pane', '-p', '-t', '=orders:']).includes('ready for orders'), 5000, 'the first screen')
  // tmux keeps output times in seconds: a screen read in a later second is not read again while the agent stays quiet.
  const activity = Number(box.tmux(['display-message', '-p', '-t', '=orders:', '#{window_activity}']))
  await waitFor(() => Date.now() >= (activity + 1) * 1000, 3000, 'a second to pass')
  assert.equal((await listed()).get('orders')?.stateMessage, null)
  mkdirSync(join(box.home, 'config'), {recursive: true})
  const rules = join(box.home, 'config', 'screens.json')
  writeFileSync(rules, JSON.stringify({generic: [{state: 'waiting', pattern: 'ready for orders', message: 'wants orders'}]}))
  try {
    const agent = (await listed()).get('orders')
    assert.equal(agent?.state, 'waiting')
    assert.equal(agent?.stateMessage, 'wants orders')
    // Patterns compile when first used, yet a bad one is refused before any listing.
    writeFileSync(rules, JSON.stringify({generic: [{state: 'waiting', pattern: '(unclosed'}]}))
    const refused = await cli(['ls'])
    assert.equal(refused.code, 1)
    assert.match(refused.stderr, /screen patterns in .*screens\.json are not valid: .*\[SETTINGS_CORRUPT\]/)
  } finally {
    rmSync(rules)
  }
})

test('an agent reports its own state from inside its session, under the name it has now', async () => {
  const inside = `sleep 2; node ${BIN} report waiting --message from-inside; exec sleep 1000`
  assert.equal((await cli(['new', 'self-reporter', '--cmd', inside])).code, 0)
  assert.equal((await cli(['rename', 'self-reporter', 'renamed-reporter'])).code, 0)
  const agent = await waitFor(async () => {
    const found = (await listed()).get('renamed-reporter')
    return found?.stateSource === 'report' && found
  }, 8000, 'the report from inside the agent')
  assert.equal(agent.state, 'waiting')
  assert.equal(agent.stateMessage, 'from-inside')
})

test('ls, ls --watch and wait read without writing anything to tmux', async () => {
  // Every option of every scope: a listing that remembered anything in tmux would show here.
  const options = () => {
    // A watcher's own session (ls --watch, wait) comes and goes with it and is not an agent.
    const names = box.tmux(['list-sessions', '-F', '#{session_name}']).split('\n').filter((name) => name && !name.startsWith('_maestro-'))
    return [box.tmux(['show-options', '-g']), box.tmux(['show-options', '-gw']), ...names.flatMap((name) => [
      box.tmux(['show-options', '-t', `=${name}:`]),
      box.tmux(['show-options', '-w', '-t', `=${name}:`]),
      box.tmux(['show-options', '-p', '-t', `=${name}:`]),
    ])].join('\n')
  }
  const before = options()
  assert.equal((await cli(['ls', '--json'])).code, 0)
  assert.equal((await cli(['wait', 'claude-permission', '--for', 'waiting', '--timeout', '10'])).code, 0)
  const watcher = spawn(process.execPath, [BIN, 'ls', '--watch', '--json'], {env: {...box.env, ...env}})
  try {
    await new Promise((resolve) => watcher.stdout.once('data', resolve))
  } finally {
    watcher.kill()
  }
  assert.equal(options(), before)
})

test('report refuses unknown states and a missing agent name', async () => {
  const bad = await cli(['report', 'sleeping', '--agent', 'plain-quiet'])
  assert.equal(bad.code, 2)
  assert.match(bad.stderr, /unknown state "sleeping": use one of working, waiting, idle, unknown/)
  const outside = await cli(['report', 'idle'])
  assert.equal(outside.code, 2)
  assert.match(outside.stderr, /not inside a maestro agent: pass --agent NAME/)
  const missing = await cli(['report', 'idle', '--agent', 'nobody', '--json'])
  assert.equal(missing.code, 1)
  assert.equal(JSON.parse(missing.stdout).error.code, 'AGENT_NOT_FOUND')
})

test('wait returns once the agent reaches the state, and times out with exit 1 otherwise', async () => {
  // Working by its own report, plain-shell holds wait until it reports otherwise.
  assert.equal((await cli(['report', 'working', '--agent', 'plain-shell'])).code, 0)
  const waiting = cli(['wait', 'codex-approval', 'plain-shell', '--for', 'idle', '--for', 'waiting', '--timeout', '20'])
  // The report comes once wait is listening: its control client sits in the watchers' seat.
  await waitFor(() => {
    try {
      return box.tmux(['list-clients', '-t', '=_maestro-seat', '-F', '#{client_control_mode}']).includes('1')
    } catch {
      return false
    }
  }, 10_000, 'wait to start watching')
  assert.equal((await cli(['report', 'idle', '--agent', 'plain-shell'])).code, 0)
  const done = await waiting
  assert.equal(done.code, 0, done.stderr)
  assert.match(done.stdout, /^codex-approval is waiting$/m)
  assert.match(done.stdout, /^plain-shell is idle$/m)

  const timedOut = await cli(['wait', 'claude-working', '--for', 'exited', '--timeout', '1', '--json'])
  assert.equal(timedOut.code, 1)
  const error = JSON.parse(timedOut.stdout).error
  assert.equal(error.code, 'TIMEOUT')
  assert.deepEqual(error.agents, [{name: 'claude-working', state: 'working'}])

  const unknown = await cli(['wait', 'nobody', '--timeout', '1'])
  assert.equal(unknown.code, 1)
  assert.match(unknown.stderr, /agent "nobody" not found/)
})

test('ls --watch prints a new list when a state changes', async () => {
  const watcher = spawn(process.execPath, [BIN, 'ls', '--watch'], {env: {...box.env, ...env}})
  let output = ''
  watcher.stdout.on('data', (chunk) => (output += chunk))
  try {
    await waitFor(() => /claude-idle\s+idle/.test(output), 5000, 'the first list')
    const before = output.length
    assert.equal((await cli(['report', 'waiting', '--message', 'watch-me', '--agent', 'claude-idle'])).code, 0)
    // How fast is measured by `npm run bench` (attention); here only that the change shows.
    await waitFor(() => /claude-idle\s+waiting\s+\S+\s+report: watch-me/.test(output.slice(before)), 5000, 'the change in ls --watch')
  } finally {
    watcher.kill()
  }
})

test('a watcher reads the screen of an agent that keeps printing at most once per pace, at once after a report, and says when the next is due', () => {
  const memory = new StateMemory('', 3000)
  const facts = {fingerprint: 'f', reading: null, program: null}
  const session = (activitySeconds: number, report = ''): SessionInfo => ({
    name: 'busy', createdAt: new Date(0), lastActivityAt: new Date(activitySeconds * 1000), attachedClients: 0, dead: false, exitCode: null,
    dir: '/', command: 'sh', report, paneId: '%1', worktree: '',
  })
  assert.equal(memory.stale(session(100), 100_000), true, 'a screen never read is read')
  memory.see(session(100), facts, 100_000)
  assert.equal(memory.stale(session(101), 101_000), false, 'output a second after a reading waits')
  assert.equal(memory.takeHeld(), 103_000)
  assert.equal(memory.takeHeld(), undefined)
  assert.equal(memory.stale(session(101, '{"state":"idle","at":101000}'), 101_000), true, 'a report is judged against the screen at once')
  assert.equal(memory.stale(session(103), 103_000), true, 'the pace is over')
  // ls has no pace: every screen that printed since is read.
  const ls = new StateMemory()
  ls.see(session(100), facts, 100_000)
  assert.equal(ls.stale(session(101), 101_000), true)
})
