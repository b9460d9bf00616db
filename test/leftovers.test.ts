import assert from 'node:assert/strict'
import {existsSync, readFileSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import {after, test} from 'node:test'

import {withLock} from '../src/store/lock.js'
import {sandbox, waitFor} from './helpers.js'
import {parseJson, startAgent} from './cli-helpers.js'

const box = sandbox('leftovers')
after(() => box.cleanup())

const state = box.env.MAESTRO_STATE_DIR!
const recordings = join(state, 'recordings')
const casts = () => (existsSync(recordings) ? readdirSync(recordings).filter((file) => file.endsWith('.cast')) : [])

async function archives(): Promise<{name: string; path: string; recording: boolean}[]> {
  const result = await box.cli(['archive', 'ls', '--json'])
  assert.equal(result.code, 0, result.stderr)
  return parseJson(result)
}

test('an agent ended outside maestro: archive ls archives its recording and note; a live agent keeps both', async () => {
  // Started under another name: the archive takes the name the agent had last.
  await startAgent(box, 'was', "sh -c 'printf \"left-%s\\n\" behind; exec sleep 1000'")
  assert.equal((await box.cli(['rename', 'was', 'gone'])).code, 0)
  await startAgent(box, 'live', "sh -c 'printf \"still-%s\\n\" here; exec sleep 1000'")
  assert.equal((await box.cli(['note', 'gone', 'what gone was doing'])).code, 0)
  assert.equal((await box.cli(['note', 'live', 'what live is doing'])).code, 0)
  await waitFor(() => box.tmux(['capture-pane', '-p', '-t', '=gone:']).includes('left-behind'), 10_000, 'gone printed')
  await waitFor(() => casts().length === 2, 10_000, 'both recordings')
  const liveCast = casts().find((file) => readFileSync(join(recordings, file), 'utf8').includes('still-here'))!
  box.tmux(['kill-session', '-t', '=gone'])
  // Its recorder ends once it has read the pane's last output; archive ls then finds it left over.
  const found = await waitFor(async () => (await archives()).find((entry) => entry.name === 'gone'), 15_000, 'an archive of gone')
  assert.equal(found.recording, true)
  assert.match(readFileSync(join(found.path, 'recording.cast'), 'utf8'), /left-behind/)
  const shown = parseJson(await box.cli(['archive', 'show', 'gone', '--json']))
  assert.equal(shown.note, 'what gone was doing')
  assert.equal(shown.agent.name, 'gone')
  assert.match(String(shown.agent.command), /printf/)
  // Nothing of the gone agent is left behind, and the live one is untouched.
  assert.deepEqual(casts(), [liveCast])
  assert.equal((await archives()).some((entry) => entry.name === 'live'), false)
  const liveNote = parseJson(await box.cli(['note', 'live', '--json']))
  assert.equal(liveNote.text, 'what live is doing')
  const notes = JSON.parse(readFileSync(join(box.env.MAESTRO_CONFIG_DIR!, 'notes.json'), 'utf8')).notes
  assert.deepEqual(Object.keys(notes), ['live'], 'the gone agent has no note left')
})

test('a session that vanishes mid-kill, after its scrollback was captured: its note and scrollback are archived', async () => {
  await startAgent(box, 'vanish', "sh -c 'printf \"seen-%s\\n\" before; exec sleep 1000'")
  assert.equal((await box.cli(['note', 'vanish', 'kept through the vanish'])).code, 0)
  await waitFor(() => box.tmux(['capture-pane', '-p', '-t', '=vanish:']).includes('seen-before'), 10_000, 'vanish printed')
  const folder = join(state, 'archive', 'vanish')
  let killing!: ReturnType<typeof box.cli>
  // Holding the notes lock stops the kill after it captured the scrollback, before it ends the session.
  await withLock(join(box.env.MAESTRO_CONFIG_DIR!, 'notes.json'), async () => {
    killing = box.cli(['kill', 'vanish', '--json'])
    await waitFor(() => existsSync(folder) && readdirSync(folder).some((entry) => existsSync(join(folder, entry, 'scrollback.txt'))), 15_000, 'the scrollback captured')
    box.tmux(['kill-session', '-t', '=vanish'])
  })
  const result = await killing
  assert.equal(result.code, 0, result.stderr)
  const shown = parseJson(await box.cli(['archive', 'show', 'vanish', '--json']))
  assert.equal(shown.note, 'kept through the vanish')
  assert.match(shown.scrollback, /seen-before/)
  assert.equal((await archives()).filter((entry) => entry.name === 'vanish').length, 1)
})
