import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {readFileSync, readdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, test} from 'node:test'

import {assertHumanError, assertJsonError, parseJson, startAgent} from './cli-helpers.js'
import {BIN, ROOT, sandbox} from './helpers.js'

const box = sandbox('store')
const configDir = box.env.MAESTRO_CONFIG_DIR!
const notesFile = join(configDir, 'notes.json')

before(async () => {
  await startAgent(box, 'scribe')
  assert.equal((await box.cli(['note', 'scribe', 'start'])).code, 0)
})
after(() => box.cleanup())

/** What a writer can leave beside the notes: locks, lock drafts and temporary files. */
const leftovers = () => readdirSync(configDir).filter((entry) => /\.(lock|tmp)\b|\.lock\./.test(entry))

/** Starts a process and resolves once it printed `line`, or fails when it exits first. */
function startUntil(command: string, args: string[], line: string) {
  const child = spawn(command, args, {env: box.env, stdio: ['ignore', 'pipe', 'inherit']})
  const ready = new Promise<void>((resolve, reject) => {
    let seen = ''
    child.stdout.on('data', (chunk: Buffer) => {
      seen += chunk.toString()
      if (seen.includes(line)) resolve()
    })
    child.on('exit', (code) => reject(new Error(`${command} exited with ${code} before printing ${line}`)))
  })
  const exited = new Promise((resolve) => child.on('exit', resolve))
  return {child, ready, exited}
}

test('a writer SIGKILLed while holding the lock leaves nothing that stops or litters the next write', async () => {
  const writer = startUntil(process.execPath, [join(ROOT, 'test/fixtures/dead-writer.mjs'), notesFile], 'holding')
  await writer.ready
  assert.ok(leftovers().includes('notes.json.lock'), `the lock is held: ${leftovers()}`)
  writer.child.kill('SIGKILL')
  await writer.exited

  const result = await box.cli(['note', 'scribe', 'after the crash'])
  assert.equal(result.code, 0, result.stderr)
  assert.equal((await box.cli(['note', 'scribe'])).stdout, 'after the crash\n')
  assert.deepEqual(leftovers(), [])
})

test('writers SIGKILLed at random moments never lose an acknowledged append nor corrupt the file', async () => {
  const runs = Array.from({length: 12}, (_, index) => {
    const child = spawn(process.execPath, [BIN, 'note', 'scribe', '--append', `entry ${index}`], {env: box.env, stdio: 'ignore'})
    const code = new Promise<number | null>((resolve) => child.on('exit', (exit) => resolve(exit)))
    // Every other writer dies somewhere between start-up and its write.
    if (index % 2 === 1) setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * 400))
    return {index, code}
  })
  const codes = await Promise.all(runs.map(async (run) => ({index: run.index, code: await run.code})))
  const note = parseJson(await box.cli(['note', 'scribe', '--json']))
  for (const {index, code} of codes) {
    if (code === 0) assert.match(note.text, new RegExp(`\\] entry ${index}$`, 'm'), `acknowledged append ${index} is kept`)
  }
  assert.ok(codes.filter(({code}) => code === 0).length >= 6, 'the writers nobody killed all succeeded')
  assert.doesNotThrow(() => JSON.parse(readFileSync(notesFile, 'utf8')))
  assert.equal((await box.cli(['note', 'scribe', 'settled'])).code, 0)
  assert.deepEqual(leftovers(), [])
})

test('processes setting different settings at the same moment all keep theirs', async () => {
  const settingsFile = join(configDir, 'settings.json')
  for (let round = 1; round <= 3; round++) {
    const wanted = {defaultCommand: `agent ${round}`, sessionDays: round, killGraceSeconds: round, recordingLimitMB: round, worktreeDir: `/tmp/trees-${round}`}
    const results = await Promise.all(Object.entries(wanted).map(([key, value]) => box.cli(['config', key, String(value)])))
    for (const result of results) assert.equal(result.code, 0, result.stderr)
    assert.deepEqual(JSON.parse(readFileSync(settingsFile, 'utf8')), wanted)
  }
  assert.deepEqual(leftovers(), [])
})

test('note --file takes the text from a file or from stdin; one 1 MiB limit', async () => {
  const long = `${'x'.repeat(300 * 1024)}\nend`
  const path = join(box.home, 'long.md')
  writeFileSync(path, long)
  const fromFile = parseJson(await box.cli(['note', 'scribe', '--file', path, '--json']))
  assert.equal(fromFile.text, long)
  const fromStdin = await box.cli(['note', 'scribe', '--file', '-'], {input: 'from stdin'})
  assert.equal(fromStdin.code, 0, fromStdin.stderr)
  assert.equal((await box.cli(['note', 'scribe'])).stdout, 'from stdin\n')

  writeFileSync(path, 'é'.repeat(512 * 1024) + 'x')
  assertHumanError(await box.cli(['note', 'scribe', '--file', path]), 'NOTE_TOO_LARGE', 2, /1048577 bytes; notes hold at most 1048576 bytes/)
  writeFileSync(path, 'é'.repeat(512 * 1024))
  assert.equal((await box.cli(['note', 'scribe', '--file', path])).code, 0, 'exactly 1 MiB fits')
  assertJsonError(await box.cli(['note', 'scribe', 'text', '--file', path, '--json']), 'INVALID_ARGUMENT', 2)
  assertHumanError(await box.cli(['note', 'scribe', '--file', join(box.home, 'missing')]), 'INVALID_ARGUMENT', 2, /cannot read .*missing/)
})
