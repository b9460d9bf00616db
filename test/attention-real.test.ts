import assert from 'node:assert/strict'
import {execFileSync, spawn} from 'node:child_process'
import {mkdirSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, test} from 'node:test'

import {parseJson, startAgent} from './cli-helpers.js'
import {BIN, ROOT, sandbox, waitFor} from './helpers.js'
import {agentBinary, codexBinary, stopCodex} from './real-agents.js'

const box = sandbox('attention-real')
after(() => box.cleanup())

interface Listed {
  name: string
  state: string
  stateSince: string
  stateSource: string
  stateMessage: string | null
}

async function listed(name: string): Promise<Listed | undefined> {
  return parseJson<Listed[]>(await box.cli(['ls', '--json'])).find((agent) => agent.name === name)
}

const screen = (name: string) => box.tmux(['capture-pane', '-p', '-t', `=${name}:`])

/**
 * Waits until the program has drawn its new screen and held it for a second: Codex drops keys
 * that arrive within about half a second of a new screen (measured: an Enter sent 0.5 s after
 * one was lost, 1 s after it was taken), as a person would never type that fast. maestro itself
 * starts quickly enough now to be that fast.
 */
async function settled(name: string): Promise<void> {
  let last = ''
  await waitFor(async () => {
    const now = screen(name)
    const same = now === last
    last = now
    if (!same) await new Promise((resolve) => setTimeout(resolve, 1000))
    return same
  }, 20_000, `${name}'s screen to settle`)
}

/** Waits until `ls` shows the agent in this state, with this message, read from its screen. */
async function lsShows(name: string, state: string, message: string | null, timeoutMs = 30_000): Promise<void> {
  const agent = await waitFor(
    async () => {
      const found = await listed(name)
      return found?.state === state && found.stateMessage === message && found
    },
    timeoutMs,
    `ls to show ${name} ${state} (${message})`,
  ).catch((error: Error) => {
    throw new Error(`${error.message}; screen:\n${screen(name)}`)
  })
  assert.equal(agent.stateSource, 'screen')
  await settled(name)
}

/**
 * Presses Enter until the screen moves on: under load Codex now and then drops an Enter that
 * arrives right after a redraw, and a person would press it again.
 */
async function pressEnter(name: string): Promise<void> {
  const before = screen(name)
  for (let attempt = 1; ; attempt++) {
    assert.equal((await box.cli(['send', name])).code, 0)
    const moved = await waitFor(() => screen(name) !== before, 5000, `${name} to take the Enter`).catch((error: Error) => {
      if (attempt === 3) throw error
    })
    if (moved) return
  }
}

test('the real Codex from npm, signed out and offline: each screen reads right as maestro send walks it to its prompt', {timeout: 400_000}, async (t) => {
  const codex = await codexBinary()
  if (!codex) return t.skip('@openai/codex could not be installed from the npm registry')
  const home = join(box.home, 'codex-home')
  const dir = join(box.home, 'codex-project')
  mkdirSync(home, {recursive: true})
  mkdirSync(dir, {recursive: true})
  // Codex asks whether to trust a folder that is a git repository.
  execFileSync('git', ['init', '-q', dir])
  t.after(async () => {
    box.tmux(['kill-session', '-t', '=codex'])
    await stopCodex(codex, home)
  })
  await startAgent(box, 'codex', `HOME='${home}' '${codex}'`, ['--dir', dir])

  await lsShows('codex', 'waiting', 'asks how to sign in', 60_000)
  assert.equal((await box.cli(['send', 'codex', '--key', 'Down', '--key', 'Down', '--key', 'Enter'])).code, 0)
  await waitFor(() => screen('codex').includes('Use an OpenAI API key'), 30_000, 'the other ways to sign in')
  await settled('codex')
  await pressEnter('codex')
  await lsShows('codex', 'waiting', 'asks for an API key')
  assert.equal((await box.cli(['send', 'codex', 'sk-test-0000000000000000000000000000'])).code, 0)
  await lsShows('codex', 'waiting', 'asks whether to trust this folder')
  await pressEnter('codex')
  await lsShows('codex', 'idle', null)
})

// Like an agent program, this one redraws its screen whenever its window changes size.
const redraws = `trap 'clear; echo approve the migration?' WINCH; clear; echo approve the migration?; while :; do sleep 0.2; done`

test('a quiet agent stays idle while a viewer opens, resizes its window three times and closes', async () => {
  await startAgent(box, 'quiet', `bash -c "${redraws}"`)
  const watch = spawn(process.execPath, [BIN, 'ls', '--watch', '--json'], {env: box.env, stdio: ['ignore', 'pipe', 'inherit']})
  const lists: Listed[][] = []
  let pending = ''
  watch.stdout.on('data', (chunk) => {
    pending += chunk
    for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n')) {
      lists.push(JSON.parse(pending.slice(0, end)))
      pending = pending.slice(end + 1)
    }
  })
  const quiet = (list: Listed[]) => list.find((agent) => agent.name === 'quiet')
  try {
    await waitFor(() => quiet(lists.at(-1) ?? [])?.state === 'idle', 20_000, 'the agent to fall quiet')
    const seen = lists.length
    const since = quiet(lists.at(-1)!)!.stateSince
    // A viewer: a tmux client of its own that attaches, sizes the window three times and leaves.
    const viewer = spawn('tmux', ['-L', box.socket, '-C', 'attach', '-t', '=quiet'], {stdio: ['pipe', 'ignore', 'ignore']})
    // A size sent before tmux has seated the client can be dropped.
    await waitFor(() => box.tmux(['list-clients', '-t', '=quiet', '-F', '#{client_pid}']).includes(String(viewer.pid)), 10_000, 'the viewer to attach')
    for (const size of ['100x30', '61x17', '120x40']) {
      viewer.stdin.write(`refresh-client -C ${size}\n`)
      await waitFor(() => box.tmux(['display-message', '-p', '-t', '=quiet:', '#{window_width}x#{window_height}']).trim() === size, 10_000, `the window at ${size}`)
    }
    viewer.stdin.end()
    await new Promise((resolve) => viewer.on('exit', resolve))
    // A later change of another agent shows that the watch read the list after every redraw.
    await startAgent(box, 'marker', 'sleep 0.5; exit 7')
    await waitFor(() => lists.some((list) => list.some((agent) => agent.name === 'marker' && agent.state === 'exited')), 20_000, 'the marker to exit')
    for (const list of lists.slice(seen)) {
      assert.equal(quiet(list)?.state, 'idle', JSON.stringify(quiet(list)))
      assert.equal(quiet(list)?.stateSince, since)
    }
    assert.match(box.tmux(['capture-pane', '-p', '-t', '=quiet:']), /approve the migration\?/)
  } finally {
    watch.kill()
  }
})

test('one ls after another: a viewer resizing a quiet agent is no work, a change of its screen is', async () => {
  await startAgent(box, 'redrawn', `bash -c "${redraws}"`)
  const quiet = await waitFor(async () => {
    const agent = await listed('redrawn')
    return agent?.state === 'idle' && agent
  }, 20_000, 'the agent to fall quiet')
  const activity = () => box.tmux(['display-message', '-p', '-t', '=redrawn:', '#{window_activity}']).trim()
  const viewer = spawn('tmux', ['-L', box.socket, '-C', 'attach', '-t', '=redrawn'], {stdio: ['pipe', 'ignore', 'ignore']})
  try {
    await waitFor(() => box.tmux(['list-clients', '-t', '=redrawn', '-F', '#{client_pid}']).includes(String(viewer.pid)), 10_000, 'the viewer to attach')
    for (const size of ['100x30', '61x17']) {
      const before = activity()
      // tmux keeps activity in whole seconds: a redraw in the same second as the last would not show.
      await waitFor(() => Date.now() / 1000 >= Number(before) + 1, 3_000, 'the next second of activity')
      viewer.stdin.write(`refresh-client -C ${size}\n`)
      // The program's redraw is output: tmux takes it for activity, and so did ls for 5 s.
      await waitFor(() => box.tmux(['display-message', '-p', '-t', '=redrawn:', '#{window_width}x#{window_height}']).trim() === size && activity() !== before, 10_000, `the redraw at ${size}`)
      const agent = await listed('redrawn')
      assert.equal(agent?.state, 'idle', JSON.stringify(agent))
      assert.equal(agent?.stateSince, quiet.stateSince)
    }
  } finally {
    viewer.stdin.end()
  }
  await new Promise((resolve) => viewer.on('exit', resolve))
  // Typing shows on its screen: that is a change, and ls says so at once.
  box.tmux(['send-keys', '-t', '=redrawn:', '-l', 'deploy now'])
  await waitFor(() => screen('redrawn').includes('deploy now'), 10_000, 'the typed text to show')
  assert.equal((await listed('redrawn'))?.state, 'working')
})

test('the real Claude Code from npm, offline, runs the hooks maestro installed: a prompt reports working', {timeout: 200_000}, async (t) => {
  const claude = await agentBinary('@anthropic-ai/claude-code', 'claude')
  if (!claude) return t.skip('@anthropic-ai/claude-code could not be installed from the npm registry')
  const home = join(box.home, 'claude-home')
  const dir = join(box.home, 'claude-project')
  const bin = join(box.home, 'claude-bin')
  for (const each of [home, dir, bin]) mkdirSync(each, {recursive: true})
  execFileSync('git', ['init', '-q', dir])
  // Past its first-run screens: onboarding done, this folder trusted, this API key accepted (by its last 20 characters).
  const key = `sk-ant-test-${'0'.repeat(40)}`
  writeFileSync(
    join(home, '.claude.json'),
    JSON.stringify({hasCompletedOnboarding: true, customApiKeyResponses: {approved: [key.slice(-20)], rejected: []}, projects: {[dir]: {hasTrustDialogAccepted: true, hasCompletedProjectOnboarding: true}}}),
  )
  symlinkSync(join(ROOT, 'bin', 'maestro'), join(bin, 'maestro'))
  assert.equal((await box.cli(['hooks', 'install', 'claude', '--project', dir])).code, 0)
  // kill waits until every process Claude started has ended, so none writes into its home afterwards.
  t.after(async () => assert.equal((await box.cli(['kill', 'claude'])).code, 0))
  await startAgent(box, 'claude', `HOME='${home}' ANTHROPIC_API_KEY='${key}' PATH='${bin}':"$PATH" '${claude}'`, ['--dir', dir])
  await lsShows('claude', 'idle', null, 60_000)
  assert.equal((await box.cli(['send', 'claude', 'say hi'])).code, 0)
  // Offline, the turn retries with a countdown that changes the screen each second, and a report
  // holds only until the screen changes: what the hook reported is read where report stores it.
  const reported = await waitFor(() => box.tmux(['display-message', '-p', '-t', '=claude:', '#{@maestro-report}']).trim(), 60_000, 'the hook to report').catch((error: Error) => {
    throw new Error(`${error.message}; screen:\n${screen('claude')}`)
  })
  assert.equal(JSON.parse(reported).state, 'working')
})
