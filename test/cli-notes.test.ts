import assert from 'node:assert/strict'
import {chmodSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {after, before, test} from 'node:test'

import {assertHumanError, assertJsonError, parseJson, sessionNames, startAgent} from './cli-helpers.js'
import {BIN, sandbox} from './helpers.js'

const box = sandbox('notes')
const configDir = box.env.MAESTRO_CONFIG_DIR!
const notesFile = join(configDir, 'notes.json')

before(async () => {
  // A config dir someone created too open: maestro must tighten it on first write.
  mkdirSync(configDir, {mode: 0o755})
  chmodSync(configDir, 0o755)
  await startAgent(box, 'writer')
})
after(() => box.cleanup())

const mode = (path: string) => statSync(path).mode & 0o777

/** An $EDITOR that runs `body` (sh) with the file to edit as $1. */
function editor(label: string, body: string): string {
  const path = join(box.home, `${label}.sh`)
  writeFileSync(path, `#!/bin/sh\n${body}\n`, {mode: 0o755})
  return path
}

test('a new agent has an empty note', async () => {
  const [human, json] = await Promise.all([box.cli(['note', 'writer']), box.cli(['note', 'writer', '--json'])])
  assert.equal(human.code, 0, human.stderr)
  assert.equal(human.stdout, '')
  assert.deepEqual(parseJson(json), {id: 'writer', host: null, name: 'writer', text: '', revision: 0, updatedAt: null})
})

test('note with text replaces it, and the note file and its folder are private', async () => {
  const first = await box.cli(['note', 'writer', 'first version'])
  assert.equal(first.code, 0, first.stderr)
  assert.equal(first.stdout, 'note of writer saved\n')
  const second = parseJson(await box.cli(['note', 'writer', 'owns the orders API', '--json']))
  assert.equal(second.name, 'writer')
  assert.equal(second.text, 'owns the orders API')
  assert.equal(second.revision, 2)
  assert.ok(Math.abs(Date.parse(second.updatedAt) - Date.now()) < 60_000)
  assert.equal((await box.cli(['note', 'writer'])).stdout, 'owns the orders API\n')

  assert.equal(mode(configDir), 0o700)
  assert.equal(mode(notesFile), 0o600)
})

test('note --append adds a timestamped line under the existing text', async () => {
  const result = await box.cli(['note', 'writer', '--append', 'switched to the v2 schema'])
  assert.equal(result.code, 0, result.stderr)
  const lines = (await box.cli(['note', 'writer'])).stdout.trimEnd().split('\n')
  assert.equal(lines.length, 2)
  assert.equal(lines[0], 'owns the orders API')
  const match = /^\[(\d{4}-\d\d-\d\d \d\d:\d\d)\] switched to the v2 schema$/.exec(lines[1])
  assert.ok(match, lines[1])
  assert.ok(Math.abs(Date.parse(`${match[1].replace(' ', 'T')}Z`) - Date.now()) < 120_000, 'stamped now, in UTC')
})

test('note --clear empties it', async () => {
  const cleared = parseJson(await box.cli(['note', 'writer', '--clear', '--json']))
  assert.equal(cleared.text, '')
  assert.equal((await box.cli(['note', 'writer'])).stdout, '')
})

test('note --edit opens $EDITOR (with its arguments) on the current note and saves the result', async () => {
  await box.cli(['note', 'writer', 'before editing'])
  const script = editor('append-line', 'test "$1" = "--flag" || exit 9\nprintf "added in the editor\\n" >> "$2"')
  const result = await box.cli(['note', 'writer', '--edit'], {env: {EDITOR: `${script} --flag`, VISUAL: ''}})
  assert.equal(result.code, 0, result.stderr)
  assert.equal(result.stdout, 'note of writer saved\n')
  assert.equal((await box.cli(['note', 'writer'])).stdout, 'before editing\nadded in the editor\n')
})

test('note --edit keeps the note when the editor fails', async () => {
  const script = editor('fail', 'printf "half-typed" > "$1"\nexit 1')
  const result = await box.cli(['note', 'writer', '--edit'], {env: {EDITOR: script, VISUAL: ''}})
  const line = assertHumanError(result, 'EDITOR_FAILED', 1, /exited with 1; the note was not changed \(your text is in (\S+)\)/)
  const kept = /your text is in (\S+)\)/.exec(line)![1]
  assert.equal(readFileSync(kept, 'utf8'), 'half-typed')
  rmSync(dirname(kept), {recursive: true})
  assert.equal((await box.cli(['note', 'writer'])).stdout, 'before editing\nadded in the editor\n')
})

test('note --edit refuses to overwrite a note saved meanwhile, and keeps the edited text', async () => {
  const script = editor(
    'race',
    `"${process.execPath}" "${BIN}" note writer "saved while editing" >/dev/null\nprintf "my edit\\n" > "$1"`,
  )
  const result = await box.cli(['note', 'writer', '--edit'], {env: {EDITOR: script, VISUAL: ''}})
  const line = assertHumanError(result, 'NOTE_CONFLICT', 1, /changed while you edited it; your version is kept in /)
  const kept = /kept in (\S+) \[/.exec(line)![1]
  assert.equal(readFileSync(kept, 'utf8'), 'my edit\n')
  rmSync(dirname(kept), {recursive: true})
  assert.equal((await box.cli(['note', 'writer'])).stdout, 'saved while editing\n')
})

test('note flags that make no sense together are usage errors', async () => {
  const results = await Promise.all([
    box.cli(['note', 'writer', 'text', '--clear', '--json']),
    box.cli(['note', 'writer', '--append', '--json']),
    box.cli(['note', 'writer', 'text', '--edit', '--json']),
    box.cli(['note', 'writer', 'text', '--append', '--clear', '--json']),
  ])
  for (const result of results) assertJsonError(result, 'INVALID_ARGUMENT', 2)
  assert.equal((await box.cli(['note', 'writer'])).stdout, 'saved while editing\n')
})

test('note of an unknown agent exits 1 with AGENT_NOT_FOUND and writes nothing', async () => {
  const before = readFileSync(notesFile, 'utf8')
  const [show, write, json] = await Promise.all([
    box.cli(['note', 'ghost']),
    box.cli(['note', 'ghost', '--append', 'hello']),
    box.cli(['note', 'ghost', 'hello', '--json']),
  ])
  assertHumanError(show, 'AGENT_NOT_FOUND', 1, /agent "ghost" not found \(maestro ls lists agents\)/)
  assertHumanError(write, 'AGENT_NOT_FOUND', 1)
  assertJsonError(json, 'AGENT_NOT_FOUND', 1)
  assert.equal(readFileSync(notesFile, 'utf8'), before)
})

test('20 concurrent note --append calls leave 20 lines', async () => {
  await startAgent(box, 'busy')
  const results = await Promise.all(Array.from({length: 20}, (_, index) => box.cli(['note', 'busy', '--append', `line ${index}`])))
  for (const result of results) assert.equal(result.code, 0, result.stderr)
  const lines = (await box.cli(['note', 'busy'])).stdout.trimEnd().split('\n')
  assert.equal(lines.length, 20)
  assert.deepEqual(
    lines.map((line) => Number(/ line (\d+)$/.exec(line)?.[1])).sort((a, b) => a - b),
    Array.from({length: 20}, (_, index) => index),
  )
  assert.equal(mode(notesFile), 0o600)
})

test('a corrupt notes file: agents still list, start, show and end; note writes refuse; the last good copy is kept', async () => {
  await box.cli(['note', 'writer', 'the last good text'])
  const corrupt = Buffer.from('{"version": 1, "notes": {"writer": {"text": "half wri')
  writeFileSync(notesFile, corrupt)
  const lastGood = `${notesFile}.last-good`

  const listed = await box.cli(['ls'])
  assert.equal(listed.code, 0, listed.stderr)
  assert.match(listed.stdout, /^writer /m)
  assert.match(listed.stderr, new RegExp(`^Warning: notes unavailable: notes file ${notesFile} is not valid; .*the last good version is ${lastGood} \\[NOTES_CORRUPT\\]\n$`))
  assert.ok(parseJson(await box.cli(['ls', '--json'])).some((agent: {name: string}) => agent.name === 'writer'))

  await startAgent(box, 'survivor', "sh -c 'echo still here; exec sleep 1000'")
  assert.equal((await box.cli(['capture', 'survivor'])).code, 0)
  const [write, append, created] = await Promise.all([
    box.cli(['note', 'writer', 'new text']),
    box.cli(['note', 'writer', '--append', 'more']),
    box.cli(['new', 'noted', '--cmd', 'sleep 1000', '--note', 'lost?']),
  ])
  for (const result of [write, append, created]) assertHumanError(result, 'NOTES_CORRUPT', 1, new RegExp(`the last good version is ${lastGood}`))
  assert.ok(!sessionNames(box).includes('noted'), 'an agent whose note cannot be saved is not started')
  const killed = await box.cli(['kill', 'survivor'])
  assert.equal(killed.code, 0, killed.stderr)
  assert.ok(!sessionNames(box).includes('survivor'))

  assert.deepEqual(readFileSync(notesFile), corrupt)
  assert.match(readFileSync(lastGood, 'utf8'), /"the last good text"/)
  // The repair the message points to loses nothing.
  writeFileSync(notesFile, readFileSync(lastGood))
  assert.equal((await box.cli(['note', 'writer'])).stdout, 'the last good text\n')
})
