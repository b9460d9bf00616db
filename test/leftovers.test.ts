import assert from 'node:assert/strict'
import {existsSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import {after, test} from 'node:test'

import {withLock} from '../src/store/lock.js'
import {sandbox, waitFor} from './helpers.js'
import {parseJson, startAgent} from './cli-helpers.js'

const box = sandbox('leftovers')
after(() => box.cleanup())

const state = box.env.MAESTRO_STATE_DIR!

async function archives(): Promise<{name: string; path: string; recording: boolean}[]> {
  const result = await box.cli(['archive', 'ls', '--json'])
  assert.equal(result.code, 0, result.stderr)
  return parseJson(result)
}

test('a session that vanishes mid-kill, after its scrollback was captured: its note and scrollback are archived', async () => {
  await startAgent(box, 'vanish', "sh -c 'printf \"seen-%s\\n\" before; exec sleep 1000'")
  assert.equal((await box.cli(['note', 'vanish', 'kept through the vanish'])).code, 0)
  await waitFor(() => box.tmux(['capture-pane', '-p', '-t', '=vanish:']).includes('seen-before'), 10_000, 'vanish printed')
  const folder = join(state, 'archive', 'vanish')
  let killing!: ReturnType<typeof box.cli>
  // Holding the notes lock stops the kill after it captured the scrollback, before it ends the session.
  await withLock(join(box.env.MAESTRO_CONFIG_DIR!, 'notes.json'), async () => {
    process.env.MAESTRO_CONFIG_DIR = box.env.MAESTRO_CONFIG_DIR
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
