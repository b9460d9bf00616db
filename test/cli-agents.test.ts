import assert from 'node:assert/strict'
import {existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, test} from 'node:test'

import {assertHumanError, assertJsonError, parseJson, sessionNames, startAgent} from './cli-helpers.js'
import {sandbox, waitFor} from './helpers.js'

const box = sandbox('agents')
after(() => box.cleanup())

const work = join(box.home, 'work')
mkdirSync(work)

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/

test('ls before any tmux server exists prints a hint, and [] as JSON', async () => {
  const [human, json] = await Promise.all([box.cli(['ls']), box.cli(['ls', '--json'])])
  assert.equal(human.code, 0, human.stderr)
  assert.match(human.stdout, /no agents yet; start one with: maestro new <name>/)
  assert.equal(json.code, 0, json.stderr)
  assert.deepEqual(parseJson(json), [])
})

test('new starts the agent in --dir running --cmd, with its note and environment', async () => {
  const result = await box.cli(['new', 'shop-backend-api', '--dir', work, '--cmd', 'sleep 1000', '--note', 'owns the orders API\nsecond line'])
  assert.equal(result.code, 0, result.stderr)
  assert.equal(result.stdout, `started shop-backend-api in ${work}\n`)

  // The command starts a moment after its session (see recordingExit).
  const facts = () => box.tmux(['display-message', '-p', '-t', '=shop-backend-api:', '#{pane_current_path}|#{pane_current_command}|#{history_limit}|#{remain-on-exit}|#{mouse}']).trim()
  const expected = `${realpathSync(work)}|sleep|50000|on|0`
  await waitFor(() => facts() === expected, 3000, 'the agent to run sleep').catch(() => assert.equal(facts(), expected))
  assert.equal(box.tmux(['show-environment', '-t', '=shop-backend-api', 'MAESTRO_AGENT']).trim(), 'MAESTRO_AGENT=shop-backend-api')

  const note = await box.cli(['note', 'shop-backend-api'])
  assert.equal(note.stdout, 'owns the orders API\nsecond line\n')
})

test('create is an alias of new, and --json returns the agent', async () => {
  const result = await box.cli(['create', 'shop-frontend-cart', '--cmd', 'sleep 1000', '--json'])
  assert.equal(result.code, 0, result.stderr)
  const agent = parseJson(result)
  assert.equal(agent.name, 'shop-frontend-cart')
  assert.deepEqual(agent.group, ['shop', 'frontend'])
  assert.equal(agent.command, 'sleep 1000')
  assert.equal(agent.dir, process.cwd())
  assert.equal(agent.note, '')
  assert.ok(sessionNames(box).includes('shop-frontend-cart'))
})

test('new refuses an existing name with AGENT_EXISTS and leaves the agent alone', async () => {
  const before = box.tmux(['display-message', '-p', '-t', '=shop-frontend-cart:', '#{pane_pid}'])
  const [human, json] = await Promise.all([
    box.cli(['new', 'shop-frontend-cart', '--cmd', 'true']),
    box.cli(['new', 'shop-frontend-cart', '--cmd', 'true', '--json']),
  ])
  assertHumanError(human, 'AGENT_EXISTS', 1, /agent "shop-frontend-cart" already exists/)
  assertJsonError(json, 'AGENT_EXISTS', 1)
  assert.equal(box.tmux(['display-message', '-p', '-t', '=shop-frontend-cart:', '#{pane_pid}']), before)
})

test('new with a --dir that does not exist, or is a file, exits 2 with DIR_NOT_FOUND and creates nothing', async () => {
  const missing = join(box.home, 'no-such-dir')
  const [human, json] = await Promise.all([
    box.cli(['new', 'nowhere', '--dir', missing, '--cmd', 'sleep 1000']),
    box.cli(['new', 'nowhere', '--dir', missing, '--cmd', 'sleep 1000', '--json']),
  ])
  assertHumanError(human, 'DIR_NOT_FOUND', 2, new RegExp(`directory ${missing} does not exist`))
  assertJsonError(json, 'DIR_NOT_FOUND', 2)
  assert.doesNotMatch(human.stderr, /--dir/, 'the message suits the page too')
  const file = join(box.home, 'a-file')
  writeFileSync(file, '')
  assertHumanError(await box.cli(['new', 'nowhere', '--dir', file, '--cmd', 'sleep 1000']), 'DIR_NOT_FOUND', 2, new RegExp(`${file} is not a directory`))
  assert.ok(!sessionNames(box).includes('nowhere'))
})

test('ls and list print one row per agent with status, viewers, dir, command and first note line', async () => {
  const [ls, list] = await Promise.all([box.cli(['ls']), box.cli(['list'])])
  assert.equal(ls.code, 0, ls.stderr)
  const ageless = (text: string) => text.replace(/\b\d+[smhd]\b/g, 'AGE').replace(/ +/g, ' ')
  assert.equal(ageless(list.stdout), ageless(ls.stdout))
  const [header, ...rows] = ls.stdout.trimEnd().split('\n')
  assert.match(header, /^NAME\s+STAT(E|US)\s+SINCE\s.*\bVIEWERS\s+DIR\s+COMMAND\s+NOTE$/)
  assert.deepEqual(rows.map((row) => row.split(/\s+/, 1)[0]), ['shop-backend-api', 'shop-frontend-cart'])
  assert.match(rows[0], /^shop-backend-api\s+\w+\s+\d+[smhd]\s.*\s0\s+\S+\/work\s+sleep 1000\s+owns the orders API$/)
  assert.doesNotMatch(ls.stdout, /second line/)
})

test('ls --tree groups agents under their hyphen hierarchy', async () => {
  await startAgent(box, 'shop')
  const result = await box.cli(['ls', '--tree'])
  assert.equal(result.code, 0, result.stderr)
  const names = result.stdout.trimEnd().split('\n').map((line) => /^\s*\S+/.exec(line)?.[0])
  assert.deepEqual(names, ['NAME', 'shop', 'shop/', '  backend/', '    shop-backend-api', '  frontend/', '    shop-frontend-cart'])
})

test('ls --json gives every field with its type', async () => {
  const agents = parseJson<Record<string, unknown>[]>(await box.cli(['ls', '--json']))
  assert.deepEqual(agents.map((agent) => agent.name), ['shop', 'shop-backend-api', 'shop-frontend-cart'])
  for (const agent of agents) {
    assert.equal(typeof agent.name, 'string')
    assert.ok(Array.isArray(agent.group) && agent.group.every((part) => typeof part === 'string'))
    assert.ok(['active', 'idle'].includes(agent.status as string), `status ${agent.status}`)
    assert.equal(agent.exitCode, null)
    assert.match(agent.createdAt as string, ISO)
    assert.match(agent.lastActivityAt as string, ISO)
    assert.equal(agent.attachedClients, 0)
    assert.equal(typeof agent.dir, 'string')
    assert.equal(agent.command, 'sleep 1000')
    assert.equal(typeof agent.note, 'string')
  }
  const api = agents[1]
  assert.deepEqual(api.group, ['shop', 'backend'])
  assert.equal(api.dir, work)
  assert.equal(api.note, 'owns the orders API\nsecond line')
  assert.ok(Math.abs(Date.parse(api.createdAt as string) - Date.now()) < 60_000)
})

/** The agent as `ls --json` shows it once its exit code is known. */
function exitedWithCode(name: string) {
  return waitFor(async () => {
    const agents = parseJson<{name: string; status: string; exitCode: number | null; stateSource: string; stateMessage: string | null}[]>(await box.cli(['ls', '--json']))
    return agents.find((agent) => agent.name === name && agent.exitCode !== null)
  }, 10_000, `${name} to exit with a code`)
}

// The agent lives a moment before it exits: tmux 3.3 can drop the output of a program that exits
// within milliseconds of starting, which no real agent does.
test('an agent whose command exits shows exited with its code and keeps its last screen', async () => {
  // A command line of several commands that ends with its own exit, in the user's shell.
  await startAgent(box, 'quitter', 'echo last words before exit; sleep 0.3; exit 3')
  // tmux 3.3 may never learn the exit status itself; maestro records it (see recordingExit).
  const agent = await exitedWithCode('quitter')
  assert.equal(agent.status, 'exited')
  assert.equal(agent.exitCode, 3)
  assert.equal(agent.stateSource, 'exit')
  assert.equal(agent.stateMessage, 'exit code 3')

  const [ls, capture] = await Promise.all([box.cli(['ls']), box.cli(['capture', 'quitter'])])
  assert.match(ls.stdout, /^quitter\s+exited \(3\)\s+\d+s\s+exit: exit code 3\s/m)
  assert.equal(capture.code, 0, capture.stderr)
  assert.match(capture.stdout, /^last words before exit$/m)

  const sent = await box.cli(['send', 'quitter', 'anyone there?'])
  assert.equal(sent.code, 1)
  assert.equal(sent.stderr.trim(), 'Error: agent "quitter" has exited (code 3); nothing was sent (maestro capture quitter shows its last output) [AGENT_EXITED]')
})

test('Ctrl-C belongs to the agent program: one that catches it keeps running, one that dies of it exits with 130', async () => {
  await startAgent(box, 'stubborn', `sh -c 'trap "echo caught" INT; echo ready; while :; do sleep 0.1; done'`)
  await startAgent(box, 'sleeper', 'sleep 1000')
  await waitFor(() => box.tmux(['capture-pane', '-p', '-t', '=stubborn:']).includes('ready'), 5000, 'stubborn to start')
  await waitFor(() => box.tmux(['display-message', '-p', '-t', '=sleeper:', '#{pane_current_command}']).trim() === 'sleep', 5000, 'sleep to start')
  box.tmux(['send-keys', '-t', '=stubborn:', 'C-c'])
  box.tmux(['send-keys', '-t', '=sleeper:', 'C-c'])
  await waitFor(() => box.tmux(['capture-pane', '-p', '-t', '=stubborn:']).includes('caught'), 5000, 'the program to catch Ctrl-C')
  const sleeper = await exitedWithCode('sleeper')
  assert.equal(sleeper.status, 'exited')
  assert.equal(sleeper.exitCode, 130)
  assert.equal(sleeper.stateMessage, 'exit code 130 (SIGINT)')
  assert.equal(box.tmux(['display-message', '-p', '-t', '=stubborn:', '#{pane_dead}']).trim(), '0')
})

test('send types text literally, then Enter as its own key; --no-enter leaves the line open; no text is just Enter', async () => {
  // cat echoes what is typed, then prints each line it receives: a submitted line appears twice.
  await startAgent(box, 'echo', 'cat')
  const text = `hello $(touch x) 'quoted' Enter C-c ;`
  const sent = await box.cli(['send', 'echo', text, '--json'])
  assert.equal(sent.code, 0, sent.stderr)
  assert.deepEqual(parseJson(sent), {id: 'echo', host: null, name: 'echo', text, enter: true, keys: ['Enter']})
  await waitFor(async () => (await box.cli(['capture', 'echo'])).stdout === `${text}\n${text}\n`, 5000, 'the line and its echo')

  const partial = await box.cli(['send', 'echo', '--no-enter', 'draft', 'words'])
  assert.equal(partial.code, 0, partial.stderr)
  assert.equal(partial.stdout, '')
  await waitFor(async () => (await box.cli(['capture', 'echo'])).stdout.endsWith(`${text}\ndraft words\n`), 5000, 'the open line')

  await box.cli(['send', 'echo'])
  await waitFor(async () => (await box.cli(['capture', 'echo'])).stdout.endsWith('draft words\ndraft words\n'), 5000, 'the submitted line')
})

test('send delivers a prompt longer than one tmux call can carry, intact and in order', async () => {
  const received = join(box.home, 'received.txt')
  await startAgent(box, 'reader', `cat > '${received}'`)
  // Lines stay under the terminal's 4096-byte line limit; the whole is ~50 KB of mixed scripts.
  const text = Array.from({length: 400}, (_, index) => `${String(index).padStart(3, '0')} ${'é日本 ascii; '.repeat(8)}`).join('\n')
  const sent = await box.cli(['send', 'reader', text])
  assert.equal(sent.code, 0, sent.stderr)
  await waitFor(() => existsSync(received) && readFileSync(received, 'utf8').length > text.length, 10_000, 'cat to receive it all')
  assert.equal(readFileSync(received, 'utf8'), `${text}\n`)
})

test('capture prints the whole scrollback; --lines and the logs alias keep the last N', async () => {
  await startAgent(box, 'counter', "sh -c 'seq 1 200; exec sleep 1000'")
  await waitFor(async () => (await box.cli(['logs', 'counter', '--lines', '1'])).stdout === '200\n', 5000, 'seq to finish')
  const [all, last, json] = await Promise.all([
    box.cli(['capture', 'counter']),
    box.cli(['logs', 'counter', '--lines', '3']),
    box.cli(['capture', 'counter', '--lines', '2', '--json']),
  ])
  assert.equal(all.stdout, `${Array.from({length: 200}, (_, index) => index + 1).join('\n')}\n`)
  assert.equal(last.stdout, '198\n199\n200\n')
  assert.deepEqual(parseJson(json), {id: 'counter', host: null, name: 'counter', text: '199\n200\n'})
})

test('capture --lines refuses a number below 1 with a usage error', async () => {
  const [human, json] = await Promise.all([box.cli(['capture', 'counter', '--lines', '0']), box.cli(['capture', 'counter', '--lines', '0', '--json'])])
  assert.equal(human.code, 2)
  assertJsonError(json, 'INVALID_ARGUMENT', 2)
})

test('rename moves the agent and its note; the old name is gone', async () => {
  const result = await box.cli(['rename', 'shop-backend-api', 'shop-orders', '--json'])
  assert.equal(result.code, 0, result.stderr)
  const agent = parseJson(result)
  assert.equal(agent.name, 'shop-orders')
  assert.equal(agent.note, 'owns the orders API\nsecond line')
  assert.ok(sessionNames(box).includes('shop-orders'))
  assert.ok(!sessionNames(box).includes('shop-backend-api'))

  const [moved, old] = await Promise.all([box.cli(['note', 'shop-orders']), box.cli(['note', 'shop-backend-api'])])
  assert.equal(moved.stdout, 'owns the orders API\nsecond line\n')
  assertHumanError(old, 'AGENT_NOT_FOUND', 1, /agent "shop-backend-api" not found \(maestro ls lists agents\)/)

  const human = await box.cli(['rename', 'shop-orders', 'shop-backend-api'])
  assert.equal(human.stdout, 'renamed shop-orders to shop-backend-api\n')
})

test('rename refuses a taken name and an unknown agent', async () => {
  const [taken, unknown] = await Promise.all([
    box.cli(['rename', 'shop', 'shop-frontend-cart', '--json']),
    box.cli(['rename', 'ghost', 'ghost-2', '--json']),
  ])
  assertJsonError(taken, 'AGENT_EXISTS', 1)
  assertJsonError(unknown, 'AGENT_NOT_FOUND', 1)
  assert.ok(sessionNames(box).includes('shop'))
  assert.ok(!sessionNames(box).includes('ghost-2'))
})

test('a session made with tmux itself on maestro\'s server is listed with the program and directory it runs in', async () => {
  // tmux tells the directory as the kernel has it: without symbolic links.
  const dir = join(realpathSync(box.home), 'handmade')
  mkdirSync(dir)
  box.tmux(['new-session', '-d', '-s', 'handmade', '-c', dir, 'sleep 1000'])
  try {
    const listed = await waitFor(async () => {
      const agent = parseJson<{name: string; command: string; dir: string}[]>(await box.cli(['ls', '--json'])).find(({name}) => name === 'handmade')
      return agent?.command === 'sleep' && agent
    }, 10_000, 'handmade to be listed running sleep')
    assert.equal(listed.dir, dir)
  } finally {
    box.tmux(['kill-session', '-t', '=handmade'])
  }
})
