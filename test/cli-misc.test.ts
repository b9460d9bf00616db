import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {chmodSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, test} from 'node:test'

import {assertHumanError, assertJsonError, parseJson, sessionNames, startAgent} from './cli-helpers.js'
import {BIN, killTmuxServer, sandbox, waitFor} from './helpers.js'

const box = sandbox('misc')
/** A second tmux server standing in for the user's terminal, where `maestro attach` runs. */
const outerSocket = `${box.socket}-outer`
/** Another maestro server, picked with --socket. */
const otherSocket = `${box.socket}-other`

after(() => {
  killTmuxServer(outerSocket)
  killTmuxServer(otherSocket)
  box.cleanup()
})

function outer(args: string[]): string {
  return execFileSync('tmux', ['-L', outerSocket, '-f', '/dev/null', ...args], {encoding: 'utf8', env: box.env})
}

/** Clients on maestro's server as `session|readonly`, sorted. */
function clients(): string[] {
  return box.tmux(['list-clients', '-F', '#{session_name}|#{client_readonly}']).split('\n').filter(Boolean).sort()
}

test('attach, run in a terminal, becomes a client of the agent; --readonly makes a read-only one', async () => {
  await startAgent(box, 'target', "sh -c 'echo target screen text; exec sleep 1000'")
  // No shell: tmux runs a multi-word command as an argument vector. Ended panes keep what they printed.
  outer(['new-session', '-d', '-x', '100', '-y', '30', '-s', 'writer', process.execPath, BIN, 'attach', 'target'])
  outer(['set-option', '-g', 'remain-on-exit', 'on'])
  outer(['new-session', '-d', '-x', '100', '-y', '30', '-s', 'reader', process.execPath, BIN, 'attach', 'target', '--readonly', '--json'])

  await waitFor(() => clients().length === 2, 10_000, 'two clients')
  assert.deepEqual(clients(), ['target|0', 'target|1'])
  await waitFor(() => outer(['capture-pane', '-p', '-t', '=writer:']).includes('target screen text'), 5000, 'the agent on the terminal')
  const agent = parseJson<{name: string; attachedClients: number}[]>(await box.cli(['ls', '--json'])).find(({name}) => name === 'target')
  assert.equal(agent?.attachedClients, 2)

  box.tmux(['detach-client', '-s', '=target'])
  // The JSON is printed once attach has returned from the detached client.
  await waitFor(() => /"name": "target",\s*"readonly": true/.test(outer(['capture-pane', '-p', '-J', '-S', '-', '-t', '=reader:'])), 15_000, 'attach --json to return')
  assert.match(outer(['capture-pane', '-p', '-S', '-', '-t', '=writer:']), /\[detached \(from session target\)\]/)
  assert.equal(box.tmux(['list-clients']), '')
  assert.ok(sessionNames(box).includes('target'), 'detaching leaves the agent running')
})

test('attach inside a client of maestro switches that client instead of nesting', async () => {
  await startAgent(box, 'hub', 'sh')
  outer(['new-session', '-d', '-x', '100', '-y', '30', '-s', 'switcher', process.execPath, BIN, 'attach', 'hub'])
  await waitFor(() => clients().includes('hub|0'), 10_000, 'a client on hub')
  const sent = await box.cli(['send', 'hub', `'${process.execPath}' '${BIN}' attach target`])
  assert.equal(sent.code, 0, sent.stderr)
  await waitFor(() => clients().includes('target|0'), 10_000, 'the client to switch to target')
  assert.deepEqual(clients(), ['target|0'])
})

test('attach --readonly inside a read-only client of maestro keeps it read-only', async () => {
  await startAgent(box, 'hub2', 'sh')
  outer(['new-session', '-d', '-x', '100', '-y', '30', '-s', 'watcher', process.execPath, BIN, 'attach', 'hub2', '--readonly'])
  await waitFor(() => clients().includes('hub2|1'), 10_000, 'a read-only client on hub2')
  // A read-only client cannot type, but its agent can still run attach (here, through send).
  await box.cli(['send', 'hub2', `'${process.execPath}' '${BIN}' attach target --readonly`])
  await waitFor(() => clients().includes('target|1'), 10_000, 'the read-only client to switch to target')
  assert.deepEqual(clients(), ['target|0', 'target|1'])
})

test('attach to an unknown agent exits 1 without starting a client', async () => {
  assertHumanError(await box.cli(['attach', 'ghost']), 'AGENT_NOT_FOUND', 1, /agent "ghost" not found/)
})

test('attach without a terminal exits 1 with TMUX_FAILED after tmux says why', async () => {
  const result = await box.cli(['attach', 'target', '--json'])
  assertJsonError(result, 'TMUX_FAILED', 1)
  assert.match(result.stderr, /open terminal failed: not a terminal/)
  assert.deepEqual(clients(), ['target|0', 'target|1'])
})

test('config sets defaultCommand, and new without --cmd runs it', async () => {
  const [empty, unknown, noKey] = await Promise.all([
    box.cli(['config', '--json']),
    box.cli(['config', 'colour', 'blue', '--json']),
    box.cli(['config', '--unset', '--json']),
  ])
  assert.deepEqual(parseJson(empty), {encryptNotes: 'off'})
  assertJsonError(unknown, 'INVALID_ARGUMENT', 2)
  assertJsonError(noKey, 'INVALID_ARGUMENT', 2)

  const command = "sh -c 'echo started by default; exec sleep 1000'"
  const set = await box.cli(['config', 'defaultCommand', command])
  assert.equal(set.code, 0, set.stderr)
  assert.equal(set.stdout, `defaultCommand = ${command}\n`)
  assert.equal(statSync(join(box.env.MAESTRO_CONFIG_DIR!, 'settings.json')).mode & 0o777, 0o600)

  const created = parseJson(await box.cli(['new', 'defaulted', '--json']))
  assert.equal(created.command, command)
  await waitFor(async () => (await box.cli(['capture', 'defaulted'])).stdout.includes('started by default'), 5000, 'default command output')

  const unset = await box.cli(['config', 'defaultCommand', '--unset'])
  assert.equal(unset.stdout, 'defaultCommand = (not set)\n')
  const shell = parseJson(await box.cli(['new', 'plain', '--json']))
  assert.notEqual(shell.command, command)
  assert.ok(shell.command.length > 0, 'a shell runs when nothing else is set')
})

test('a corrupt settings file gives SETTINGS_CORRUPT, stays as it was, and new without --cmd starts nothing', async () => {
  const settings = join(box.env.MAESTRO_CONFIG_DIR!, 'settings.json')
  const corrupt = '{"defaultCommand": '
  writeFileSync(settings, corrupt)
  try {
    const [config, change, created] = await Promise.all([box.cli(['config']), box.cli(['config', 'sessionDays', '7']), box.cli(['new', 'unsettled', '--json'])])
    assertHumanError(config, 'SETTINGS_CORRUPT', 1, new RegExp(`settings file ${settings} is not valid \\(it is not JSON\\); fix or move it aside, maestro changed nothing`))
    assertHumanError(change, 'SETTINGS_CORRUPT', 1)
    assertJsonError(created, 'SETTINGS_CORRUPT', 1)
    assert.equal(readFileSync(settings, 'utf8'), corrupt)
    assert.ok(!sessionNames(box).includes('unsettled'))

    const misfit = '{"sessionDays": -1, "defaultCommand": "claude"}\n'
    writeFileSync(settings, misfit)
    const refused = assertJsonError(await box.cli(['config', 'defaultCommand', 'codex', '--json']), 'SETTINGS_CORRUPT', 1)
    assert.match(refused.message, /\(sessionDays must be a number of days above 0 and at most 3650, not -1\)/)
    assert.equal(readFileSync(settings, 'utf8'), misfit)
  } finally {
    rmSync(settings)
  }
})

test('settings kept by an earlier maestro (through conf) are read as they are, and a change keeps the others', async () => {
  const settings = join(box.env.MAESTRO_CONFIG_DIR!, 'settings.json')
  // What conf wrote: one object, indented with tabs.
  writeFileSync(settings, JSON.stringify({defaultCommand: 'claude', onStateChange: ['notify-send', 'maestro'], killGraceSeconds: 0}, undefined, '\t'), {mode: 0o600})
  try {
    assert.deepEqual(parseJson(await box.cli(['config', '--json'])), {defaultCommand: 'claude', onStateChange: ['notify-send', 'maestro'], killGraceSeconds: 0, encryptNotes: 'off'})
    const changed = parseJson(await box.cli(['config', 'sessionDays', '7', '--json']))
    assert.deepEqual(changed, {defaultCommand: 'claude', onStateChange: ['notify-send', 'maestro'], killGraceSeconds: 0, sessionDays: 7, encryptNotes: 'off'})
    assert.deepEqual(JSON.parse(readFileSync(settings, 'utf8')), {defaultCommand: 'claude', onStateChange: ['notify-send', 'maestro'], killGraceSeconds: 0, sessionDays: 7})
    assert.equal((await box.cli(['config', 'killGraceSeconds'])).stdout, 'killGraceSeconds = 0\n')
  } finally {
    rmSync(settings)
  }
})

test('without MAESTRO_CONFIG_DIR and MAESTRO_STATE_DIR, maestro keeps its files in the XDG directories, else under HOME', async () => {
  const xdg = {MAESTRO_CONFIG_DIR: '', MAESTRO_STATE_DIR: '', XDG_CONFIG_HOME: join(box.home, 'xdg-config'), XDG_STATE_HOME: join(box.home, 'xdg-state')}
  const home = join(box.home, 'home')
  const plain = {...xdg, XDG_CONFIG_HOME: '', XDG_STATE_HOME: '', HOME: home}
  for (const [env, config, state] of [
    [xdg, join(xdg.XDG_CONFIG_HOME, 'maestro'), join(xdg.XDG_STATE_HOME, 'maestro')],
    [plain, join(home, '.config', 'maestro'), join(home, '.local', 'state', 'maestro')],
  ] as const) {
    assert.equal((await box.cli(['config', 'sessionDays', '3'], {env})).code, 0)
    assert.deepEqual(JSON.parse(readFileSync(join(config, 'settings.json'), 'utf8')), {sessionDays: 3})
    const checks = parseJson(await box.cli(['doctor', '--json'], {env})).checks as {name: string; detail: string}[]
    assert.match(checks.find((check) => check.name === 'state directory')!.detail, new RegExp(`^${state}\\b`))
  }
})

test('--socket picks another maestro server', async () => {
  const created = await box.cli(['new', 'elsewhere', '--cmd', 'sleep 1000', '--socket', otherSocket])
  assert.equal(created.code, 0, created.stderr)
  const [here, there] = await Promise.all([box.cli(['ls', '--json']), box.cli(['ls', '--json', '--socket', otherSocket])])
  assert.ok(!parseJson<{name: string}[]>(here).some(({name}) => name === 'elsewhere'))
  assert.deepEqual(parseJson<{name: string}[]>(there).map(({name}) => name), ['elsewhere'])
})

test('doctor checks tmux and the directories; --json gives each check', async () => {
  const [human, json] = await Promise.all([box.cli(['doctor']), box.cli(['doctor', '--json'])])
  assert.equal(human.code, 0, human.stderr)
  assert.match(human.stdout, /^tmux\s+ok\s+tmux \d+\.\d+/m)
  // This machine's tmux (3.3a) predates the fix of the crash maestro works around, and doctor says so.
  const tmuxCheck = parseJson(json).checks[0]
  if (Number(/(\d+\.\d+)/.exec(tmuxCheck.detail)?.[1]) < 3.7) assert.match(tmuxCheck.detail, /before 3\.7, a tmux bug can end every agent .*tmux\/tmux#4980/)
  assert.match(human.stdout, /^config directory\s+ok\s/m)
  assert.match(human.stdout, /^state directory\s+ok\s/m)
  const report = parseJson(json)
  assert.equal(report.ok, true)
  assert.deepEqual(report.checks.map(({name}: {name: string}) => name), ['tmux', 'config directory', 'state directory', 'notes', 'recordings'])
  assert.match(human.stdout, /^recordings\s+ok\s+perl with Time::HiRes/m)
})

test('doctor names a corrupt notes file and the copy that repairs it', async () => {
  const config = join(box.home, 'corrupt-config')
  mkdirSync(config, {mode: 0o700})
  writeFileSync(join(config, 'notes.json'), '{"version": 1, "notes": {"api": ')
  writeFileSync(join(config, 'notes.json.last-good'), '{"version": 1, "notes": {}}\n')
  const env = {MAESTRO_CONFIG_DIR: config}
  const [human, json] = await Promise.all([box.cli(['doctor'], {env}), box.cli(['doctor', '--json'], {env})])
  assert.equal(human.code, 1)
  const notes = join(config, 'notes.json')
  assert.match(human.stdout, new RegExp(`^notes\\s+FAIL\\s+${notes} is not valid: notes are unavailable .*; fix: cp ${notes}.last-good ${notes} \\(the last good version\\)$`, 'm'))
  assert.equal(json.code, 1)
  assert.deepEqual(parseJson(json).checks.find(({name}: {name: string}) => name === 'notes')?.ok, false)
})

test('doctor says how to fix a config directory others can read', async () => {
  const configDir = box.env.MAESTRO_CONFIG_DIR!
  chmodSync(configDir, 0o755)
  try {
    const [human, json] = await Promise.all([box.cli(['doctor']), box.cli(['doctor', '--json'])])
    assert.equal(human.code, 1)
    assert.match(human.stdout, new RegExp(`^config directory\\s+FAIL\\s+${configDir} is readable by others \\(mode 755\\); fix: chmod 700 ${configDir}$`, 'm'))
    assert.equal(json.code, 1)
    assert.equal(parseJson(json).ok, false)
  } finally {
    chmodSync(configDir, 0o700)
  }
})

test('without tmux on PATH, commands exit 3 with TMUX_MISSING', async () => {
  const bin = join(box.home, 'node-only')
  mkdirSync(bin)
  symlinkSync(process.execPath, join(bin, 'node'))
  const env = {PATH: bin}
  const [ls, json, created, doctor, ...quick] = await Promise.all([
    box.cli(['ls'], {env}),
    box.cli(['ls', '--json'], {env}),
    box.cli(['new', 'orphan', '--cmd', 'sleep 1000'], {env}),
    box.cli(['doctor', '--json'], {env}),
    // The commands that wait for tmux without the event loop fail alike.
    box.cli(['report', 'idle', '--agent', 'orphan'], {env}),
    box.cli(['capture', 'orphan', '--json'], {env}),
    box.cli(['send', 'orphan', 'hello'], {env}),
  ])
  assertHumanError(ls, 'TMUX_MISSING', 3, /tmux is not installed or not on PATH \(install it/)
  assertJsonError(json, 'TMUX_MISSING', 3)
  assertHumanError(created, 'TMUX_MISSING', 3)
  assertHumanError(quick[0], 'TMUX_MISSING', 3)
  assertJsonError(quick[1], 'TMUX_MISSING', 3)
  assertHumanError(quick[2], 'TMUX_MISSING', 3)
  assert.equal(doctor.code, 3)
  assert.deepEqual(parseJson(doctor).checks[0], {name: 'tmux', ok: false, detail: 'not found', fix: 'install tmux (apt-get install tmux, brew install tmux)', code: 'TMUX_MISSING'})
  // perl is not on that PATH either: agents would not be recorded.
  assert.deepEqual(parseJson(doctor).checks.at(-1), {name: 'recordings', ok: false, detail: 'perl is not installed: agents are not recorded', fix: 'install perl (apt-get install perl)'})
})

test('a bad flag, a missing argument or a bad value is a one-line usage error, as JSON too', async () => {
  const [human, json, missing, badValue] = await Promise.all([
    box.cli(['ls', '--bogus']),
    box.cli(['ls', '--bogus', '--json']),
    box.cli(['new']),
    box.cli(['capture', 'x', '--lines', 'abc']),
  ])
  assertHumanError(human, 'INVALID_ARGUMENT', 2, /^Error: Nonexistent flag: --bogus \(maestro ls --help shows usage\)/)
  assertJsonError(json, 'INVALID_ARGUMENT', 2)
  assertHumanError(missing, 'INVALID_ARGUMENT', 2, /Missing 1 required arg: name Agent name/)
  assertHumanError(badValue, 'INVALID_ARGUMENT', 2, /Expected an integer but received: abc/)
})

test('help lists every command once with its summary, its aliases beside it', async () => {
  const result = await box.cli(['--help'])
  assert.equal(result.code, 0, result.stderr)
  for (const command of ['new, create', 'ls, list', 'note', 'kill', 'kill-all', 'attach', 'send', 'capture, logs', 'rename', 'doctor', 'config']) {
    assert.match(result.stdout, new RegExp(`^  ${command}\\s+\\S`, 'm'), command)
  }
  const names = result.stdout
    .slice(result.stdout.indexOf('COMMANDS'))
    .split('\n')
    .filter((line) => /^ {2}\S/.test(line))
    .flatMap((line) => line.trim().split(/\s{2,}/)[0].split(', '))
  assert.equal(new Set(names).size, names.length, `a command or alias listed twice: ${names.join(' ')}`)
})

test('ls on a terminal fits its width, cutting DIR, COMMAND and NOTE with …; piped, rows are whole', async () => {
  const dir = join(box.home, 'a-rather-long-directory-name-for-a-project', 'with', 'nested', 'folders')
  mkdirSync(dir, {recursive: true})
  const command = `sh -c 'echo started; exec sleep 1000' # ${'x'.repeat(60)}`
  await startAgent(box, 'wide-agent', command, ['--dir', dir, '--note', 'a note that is long enough to be cut on a narrow terminal'])
  const piped = await box.cli(['ls'])
  const whole = piped.stdout.split('\n').find((line) => line.startsWith('wide-agent'))!
  assert.ok(whole.includes(command) && whole.includes(dir), whole)

  for (const width of [80, 120]) {
    outer(['new-session', '-d', '-x', String(width), '-y', '40', '-s', `ls${width}`, process.execPath, BIN, 'ls'])
    const lines = await waitFor(() => {
      const text = outer(['capture-pane', '-p', '-S', '-', '-t', `=ls${width}:`])
      return text.includes('wide-agent') ? text.trimEnd().split('\n') : undefined
    }, 10_000, `ls in a ${width}-column terminal`)
    const header = lines.findIndex((line) => line.startsWith('NAME'))
    // tmux marks the end of ls with a "Pane is dead" line of its own.
    const rows = lines.slice(header).filter((line) => line && !line.startsWith('Pane is dead'))
    // One line per agent: nothing wrapped onto a line of its own.
    assert.equal(rows.length, 1 + sessionNames(box).length, lines.join('\n'))
    for (const line of rows) assert.ok([...line].length <= width, `${line.length} > ${width}: ${line}`)
    const row = rows.find((line) => line.startsWith('wide-agent'))!
    assert.match(row, /^wide-agent\s+\S+/)
    assert.ok(row.includes('…'), row)
    assert.ok(!row.includes(command), 'the command was cut')
  }
})

test('kill-all on a terminal asks first, and kills nothing unless the answer is yes', async () => {
  const agents = sessionNames(box)
  assert.ok(agents.length > 0)
  const screen = (session: string) => outer(['capture-pane', '-p', '-J', '-S', '-', '-t', `=${session}:`])
  // The first five by name, as ls lists them, and how many more.
  const named = [...agents].sort((a, b) => a.localeCompare(b))
  assert.ok(named.length > 5, 'enough agents to leave some unnamed')
  const question = new RegExp(`End ${named.length} agents \\(${named.slice(0, 5).join(', ')} and ${named.length - 5} more\\)\\? .*\\[y/N\\]`)

  outer(['new-session', '-d', '-x', '150', '-y', '30', '-s', 'refuser', process.execPath, BIN, 'kill-all'])
  await waitFor(() => question.test(screen('refuser')), 10_000, 'the question')
  outer(['send-keys', '-t', '=refuser:', 'n', 'Enter'])
  await waitFor(() => screen('refuser').includes('nothing was killed'), 10_000, 'the refusal')
  assert.deepEqual(sessionNames(box), agents)

  outer(['new-session', '-d', '-x', '150', '-y', '30', '-s', 'confirmer', process.execPath, BIN, 'kill-all'])
  await waitFor(() => question.test(screen('confirmer')), 10_000, 'the question')
  outer(['send-keys', '-t', '=confirmer:', 'y', 'Enter'])
  await waitFor(() => sessionNames(box).length === 0, 30_000, 'every agent to end')
})
