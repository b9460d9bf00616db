import assert from 'node:assert/strict'
import {existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, test} from 'node:test'

import {formatLiteral} from '../src/tmux/client.js'
import {LAUNCHER, sandbox, waitFor} from './helpers.js'
import {assertHumanError, assertJsonError, parseJson, startAgent} from './cli-helpers.js'

const box = sandbox('recording')
after(() => box.cleanup())

const state = box.env.MAESTRO_STATE_DIR!
const recordings = join(state, 'recordings')
const mode = (path: string) => statSync(path).mode & 0o777

type Event = [number, string, string]

/** An asciicast v2 file: its header and events, every line checked to be JSON of that shape. */
function readCast(path: string): {header: Record<string, unknown>; events: Event[]} {
  const [first, ...lines] = readFileSync(path, 'utf8').split('\n')
  assert.equal(lines.pop(), '', 'the file ends with a line break')
  const header = JSON.parse(first)
  const events = lines.map((line) => JSON.parse(line) as Event)
  for (const [time, type, data] of events) {
    assert.equal(typeof time, 'number')
    assert.ok(['o', 'r', 'm'].includes(type), type)
    assert.equal(typeof data, 'string')
  }
  for (let i = 1; i < events.length; i++) assert.ok(events[i][0] >= events[i - 1][0], `time goes back at event ${i}`)
  return {header, events}
}

const output = (events: Event[]) => events.filter(([, type]) => type === 'o').map(([, , data]) => data).join('')

async function kill(name: string): Promise<{archive: string; recording: string | null}> {
  const result = await box.cli(['kill', name, '--json'])
  assert.equal(result.code, 0, result.stderr)
  return parseJson(result)[0]
}

async function screenShows(name: string, text: string): Promise<void> {
  await waitFor(() => box.tmux(['capture-pane', '-p', '-t', `=${name}:`]).includes(text), 10_000, `${text} on ${name}'s screen`)
}

test('formatLiteral with strftime keeps % and # literal where tmux expands time too', () => {
  box.tmux(['-f', '/dev/null', 'new-session', '-d', '-s', 'formats', 'cat'])
  for (const text of ['%d', '100%', '%%', 'a%#{b}%(c)', '#[x]%H']) {
    assert.equal(box.tmux(['display-message', '-p', formatLiteral(text, {strftime: true})]).replace(/\n$/, ''), text)
  }
  box.tmux(['kill-session', '-t', '=formats'])
})

test("a full-screen program's early frames, gone from its screen, are in recording.cast after kill (UTF-8 split across reads joined, invalid bytes as U+FFFD)", async () => {
  const frames = "printf 'h\\303\\251llo \\033[31mred\\033[0m not utf-8: \\377\\n'; printf 'split \\303'; sleep 0.2; printf '\\251 joined\\n'; printf '\\033[?1049h'; for i in 1 2 3 4 5; do printf '\\033[H\\033[2Jframe %s' \\$i; sleep 0.05; done; echo; echo last-frame; exec sleep 1000"
  await startAgent(box, 'full', `sh -c "${frames}"`)
  await screenShows('full', 'last-frame')
  assert.doesNotMatch(box.tmux(['capture-pane', '-p', '-t', '=full:', '-S', '-']), /frame 1/)
  assert.equal(mode(recordings), 0o700)
  for (const file of readdirSync(recordings)) assert.equal(mode(join(recordings, file)), 0o600)

  const {archive, recording} = await kill('full')
  assert.equal(recording, join(archive, 'recording.cast'))
  assert.equal(mode(recording!), 0o600)
  assert.deepEqual(readdirSync(recordings), [], 'nothing is left behind in recordings/')
  const {header, events} = readCast(recording!)
  assert.equal(header.version, 2)
  assert.equal(header.width, 80)
  assert.equal(header.height, 24)
  assert.ok(Math.abs(Number(header.timestamp) * 1000 - Date.now()) < 120_000)
  const text = output(events)
  for (const frame of ['héllo \u001B[31mred\u001B[0m not utf-8: \uFFFD\r\n', 'split é joined', '\u001B[?1049h', 'frame 1', 'frame 5', 'last-frame']) assert.ok(text.includes(frame), frame)
})

test('a rename keeps recording into the same file, and a resize is recorded', async () => {
  await startAgent(box, 'before', "sh -c 'while read line; do echo \"got $line\"; done'")
  await box.cli(['send', 'before', 'one'])
  await screenShows('before', 'got one')
  assert.equal((await box.cli(['rename', 'before', 'after'])).code, 0)
  box.tmux(['resize-window', '-t', '=after:', '-x', '100', '-y', '30'])
  await box.cli(['send', 'after', 'two'])
  await screenShows('after', 'got two')
  const {recording} = await kill('after')
  const {events} = readCast(recording!)
  const text = output(events)
  assert.ok(text.includes('got one') && text.includes('got two'), text)
  const resize = events.findIndex(([, type, data]) => type === 'r' && data === '100x30')
  assert.ok(resize > 0, 'a resize event 100x30')
  assert.ok(output(events.slice(resize)).includes('got two'), 'the resize comes before the output drawn at that size')
})

test('past recordingLimitMB the oldest output is dropped, the newest kept, and the file says so', async () => {
  assert.equal((await box.cli(['config', 'recordingLimitMB', '0.25'])).code, 0)
  try {
    // About 1.2 MB of numbered lines, then a mark: the cap is reached several times over.
    await startAgent(box, 'loud', "sh -c 'seq 1 150000 | sed s/^/line-/; echo END-MARK; exec sleep 1000'")
    await screenShows('loud', 'END-MARK')
    const {recording} = await kill('loud')
    const size = statSync(recording!).size
    assert.ok(size <= 0.25 * 1024 * 1024 + 70_000, `size ${size}`)
    const {header, events} = readCast(recording!)
    assert.equal(header.version, 2)
    assert.equal(events[0][1], 'm')
    assert.match(events[0][2], /older output was dropped/)
    const text = output(events)
    assert.ok(text.includes('line-150000') && text.includes('END-MARK'))
    assert.ok(!text.includes('line-1\r\n'), 'the oldest output is gone')
  } finally {
    await box.cli(['config', 'recordingLimitMB', '--unset'])
  }
  for (const bad of ['0', '-1', 'lots', '']) {
    const result = await box.cli(['config', 'recordingLimitMB', bad])
    assert.equal(result.code, 2, `${bad}: ${result.stderr}`)
    assert.match(result.stderr, /^Error: recordingLimitMB must be .+ \[INVALID_ARGUMENT\]\n$/)
  }
})

test('a state directory whose name holds shell and tmux syntax records exactly there and runs nothing', async () => {
  const pwned = join(box.home, 'pwned')
  const odd = join(box.home, `st '$(touch ${pwned})' #(touch ${pwned}) %d #{pane_id}`)
  mkdirSync(odd, {recursive: true})
  const env = {MAESTRO_STATE_DIR: odd}
  assert.equal((await box.cli(['new', 'odd', '--cmd', "sh -c 'echo odd-output; exec sleep 1000'"], {env})).code, 0)
  await screenShows('odd', 'odd-output')
  await waitFor(() => existsSync(join(odd, 'recordings')) && readdirSync(join(odd, 'recordings')).some((file) => file.endsWith('.cast')), 10_000, 'the recording')
  const result = await box.cli(['kill', 'odd', '--json'], {env})
  assert.equal(result.code, 0, result.stderr)
  const {recording} = parseJson(result)[0]
  assert.ok(recording.startsWith(odd))
  assert.ok(output(readCast(recording).events).includes('odd-output'))
  assert.equal(existsSync(pwned), false)
})

test('replay draws the same screen the agent showed, in a real terminal; archive ls and show list and print it', async () => {
  const draw = [
    "printf '\\033[1;32mgreen bold\\033[0m plain \\033[4munder\\033[0m\\n'",
    "printf 'progress 10%%\\rprogress 99%%\\n'",
    "printf 'wide 漢字 and é\\n'",
    "printf '\\033[8;20Hplaced at row 8\\033[2;40Hrow two right\\n'",
    "printf 'erase me\\033[2K\\rkept\\n'",
  ].join('; ')
  await startAgent(box, 'same', `sh -c "${draw.replaceAll('"', '\\"')}; exec sleep 1000"`, ['--note', 'the note of same'])
  await screenShows('same', 'kept')
  const original = box.tmux(['capture-pane', '-p', '-e', '-t', '=same:'])
  await kill('same')

  const listed = await box.cli(['archive', 'ls', 'same', '--json'])
  assert.equal(listed.code, 0, listed.stderr)
  const [entry] = parseJson(listed)
  assert.equal(entry.name, 'same')
  assert.equal(entry.recording, true)
  assert.equal(entry.dir, process.cwd())
  assert.ok(Math.abs(Date.parse(entry.killedAt) - Date.now()) < 120_000)
  const human = await box.cli(['archive', 'ls'])
  assert.match(human.stdout, /^NAME +KILLED +DIR +COMMAND +SIZE +ID\n/)
  assert.match(human.stdout, new RegExp(`^same .+ ${entry.id}$`, 'm'))
  const shown = await box.cli(['archive', 'show', 'same', '--at', entry.id])
  assert.equal(shown.code, 0, shown.stderr)
  assert.match(shown.stdout, /--- note ---\nthe note of same\n/)
  assert.match(shown.stdout, /--- scrollback ---\n[^]*progress 99%/)
  assert.equal(parseJson(await box.cli(['archive', 'show', 'same', '--json'])).note, 'the note of same')

  const done = join(box.home, 'replay-done')
  const env = Object.entries({MAESTRO_STATE_DIR: state, MAESTRO_CONFIG_DIR: box.env.MAESTRO_CONFIG_DIR!}).flatMap(([key, value]) => ['-e', `${key}=${value}`])
  box.tmux(['new-session', '-d', '-s', 'viewer', '-x', '80', '-y', '24', ...env, `${LAUNCHER} replay same --speed 20; echo $? > ${done}; exec sleep 1000`])
  await waitFor(() => existsSync(done) && readFileSync(done, 'utf8').trim() !== '', 20_000, 'the replay to end')
  assert.equal(readFileSync(done, 'utf8').trim(), '0')
  assert.equal(box.tmux(['capture-pane', '-p', '-e', '-t', '=viewer:']), original)
})

test('archive and replay errors: unknown archive or id, no recording, bad name or speed', async () => {
  assertHumanError(await box.cli(['archive', 'show', 'never-was']), 'ARCHIVE_NOT_FOUND', 1, /no archive of "never-was"/)
  assertJsonError(await box.cli(['replay', 'never-was', '--json']), 'ARCHIVE_NOT_FOUND', 1)
  assertHumanError(await box.cli(['archive', 'show', 'full', '--at', '../../etc']), 'ARCHIVE_NOT_FOUND', 1)
  assertHumanError(await box.cli(['archive', 'ls', '../x']), 'INVALID_NAME', 2)
  assertHumanError(await box.cli(['replay', 'full', '--speed', 'fast']), 'INVALID_ARGUMENT', 2)
  // An archive from before recordings existed: only a note and a scrollback.
  const old = join(state, 'archive', 'old-agent', '2020-01-01T00-00-00.000Z')
  mkdirSync(old, {recursive: true})
  writeFileSync(join(old, 'note.md'), 'old note')
  assertHumanError(await box.cli(['replay', 'old-agent']), 'RECORDING_NOT_FOUND', 1, /has no recording/)
  assert.equal(parseJson(await box.cli(['archive', 'show', 'old-agent', '--json'])).killedAt, '2020-01-01T00:00:00.000Z')
  assert.equal((await box.cli(['archive', 'ls', 'nobody'])).stdout, 'no archives of "nobody"; maestro kill NAME archives an agent\n')
})

test('replay stops when q is pressed, and leaves a full-screen recording only on q', async () => {
  await startAgent(box, 'slow', "sh -c 'echo first-part; sleep 1.5; echo second-part; printf \"\\033[?1049hon the alternate screen\"; exec sleep 1000'")
  await screenShows('slow', 'on the alternate screen')
  await kill('slow')
  const env = Object.entries({MAESTRO_STATE_DIR: state, MAESTRO_CONFIG_DIR: box.env.MAESTRO_CONFIG_DIR!}).flatMap(([key, value]) => ['-e', `${key}=${value}`])
  const viewer = (session: string, speed: string, done: string) =>
    box.tmux(['new-session', '-d', '-s', session, '-x', '80', '-y', '24', ...env, `${LAUNCHER} replay slow --speed ${speed}; echo $? > ${done}; echo after-replay; exec sleep 1000`])
  const screen = (session: string) => box.tmux(['capture-pane', '-p', '-t', `=${session}:`])

  // At a tenth of the speed, the 1.5 s pause lasts 15 s: q ends it long before the second part.
  const stopped = join(box.home, 'stopped')
  viewer('stopper', '0.1', stopped)
  await waitFor(() => screen('stopper').includes('first-part'), 20_000, 'the first part')
  box.tmux(['send-keys', '-t', '=stopper:', 'q'])
  await waitFor(() => existsSync(stopped) && readFileSync(stopped, 'utf8').trim() === '0', 10_000, 'replay to stop on q')
  assert.doesNotMatch(screen('stopper'), /second-part/)

  // Played to its end, the recording's last frame is on the alternate screen: it stays until q.
  const ended = join(box.home, 'ended')
  viewer('ender', '20', ended)
  await waitFor(() => screen('ender').includes('on the alternate screen'), 20_000, 'the last frame')
  assert.equal(existsSync(ended), false, 'replay waits for q on a full-screen last frame')
  box.tmux(['send-keys', '-t', '=ender:', 'q'])
  await waitFor(() => screen('ender').includes('after-replay'), 10_000, 'the shell after replay')
  assert.doesNotMatch(screen('ender'), /on the alternate screen/, 'the alternate screen was left')
  assert.match(screen('ender'), /second-part/)
})
