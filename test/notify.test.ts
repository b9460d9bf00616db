import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, test} from 'node:test'

import {assertHumanError, startAgent} from './cli-helpers.js'
import {BIN, sandbox, waitFor} from './helpers.js'

const box = sandbox('notify')
after(() => box.cleanup())

// Records what it was told, then takes its time: whoever ran it must not wait for it.
const recorder = join(box.home, 'recorder.js')
const told = join(box.home, 'told.jsonl')
writeFileSync(
  recorder,
  `require('fs').appendFileSync(process.argv[2], JSON.stringify({args: process.argv.slice(3), agent: process.env.MAESTRO_AGENT, state: process.env.MAESTRO_STATE, message: process.env.MAESTRO_MESSAGE}) + '\\n'); setTimeout(() => {}, 60000)`,
)
const records = () => (existsSync(told) ? readFileSync(told, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line)) : [])

test('onStateChange is an argument array: a shell string is refused', async () => {
  assertHumanError(await box.cli(['config', 'onStateChange', 'notify-send "$MAESTRO_AGENT"']), 'INVALID_ARGUMENT', 2, /JSON array/)
  assertHumanError(await box.cli(['config', 'onStateChange', '[]']), 'INVALID_ARGUMENT', 2, /JSON array/)
})

test('ls --watch runs onStateChange once per entry into waiting and exited, with the agent in its environment, never waiting for it', async () => {
  const set = await box.cli(['config', 'onStateChange', JSON.stringify([process.execPath, recorder, told, '$MAESTRO_AGENT'])])
  assert.equal(set.code, 0, set.stderr)
  const watch = spawn(process.execPath, [BIN, 'ls', '--watch', '--json'], {env: box.env, stdio: ['ignore', 'pipe', 'inherit']})
  let output = ''
  watch.stdout.on('data', (chunk) => (output += chunk))
  try {
    await waitFor(() => output.includes('\n'), 15_000, 'the first list')
    await startAgent(box, 'asker', `sleep 1; printf 'Deploy now? [y/N] '; read answer; exit 4`)
    await waitFor(() => records().length === 1, 20_000, 'the notice that asker waits')
    assert.equal((await box.cli(['send', 'asker', 'y'])).code, 0)
    // The first run still sleeps: the exit is told all the same.
    await waitFor(() => records().length === 2, 20_000, 'the notice that asker exited')
    assert.deepEqual(records(), [
      {args: ['$MAESTRO_AGENT'], agent: 'asker', state: 'waiting', message: 'Deploy now? [y/N]'},
      {args: ['$MAESTRO_AGENT'], agent: 'asker', state: 'exited', message: 'exit code 4'},
    ])
  } finally {
    watch.kill()
  }
})

test('wait is not held up by an onStateChange program that cannot start', async () => {
  assert.equal((await box.cli(['config', 'onStateChange', '["/nonexistent/notifier"]'])).code, 0)
  await startAgent(box, 'asker2', `sleep 1; printf 'Proceed (y/n)? '; read answer`)
  const waited = await box.cli(['wait', 'asker2', '--for', 'waiting', '--timeout', '30'])
  assert.equal(waited.code, 0, waited.stderr)
  assert.equal(waited.stdout, 'asker2 is waiting\n')
})
