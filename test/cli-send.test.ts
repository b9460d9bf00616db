import assert from 'node:assert/strict'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, test} from 'node:test'

import {assertHumanError, assertJsonError, parseJson, startAgent} from './cli-helpers.js'
import {ROOT, sandbox, waitFor} from './helpers.js'
import {codexBinary, stopCodex} from './real-agents.js'

const box = sandbox('send')
after(() => box.cleanup())

const PROMPT = join(ROOT, 'test', 'fixtures', 'prompt.js')
const screen = (name: string) => box.tmux(['capture-pane', '-p', '-t', `=${name}:`])

async function startPrompt(name: string): Promise<void> {
  await startAgent(box, name, `'${process.execPath}' '${PROMPT}'`)
  await waitFor(() => /^>$/m.test(screen(name)), 10_000, 'the prompt')
}

test('send submits a prompt to a program that reads an Enter right after pasted text as a newline', async () => {
  await startPrompt('burst')
  // Text and an Enter in one burst: the program keeps the Enter as a newline, nothing is submitted.
  box.tmux(['send-keys', '-t', '=burst:', '-l', 'typed fast', ';', 'send-keys', '-t', '=burst:', 'Enter'])
  await waitFor(() => screen('burst').includes('> typed fast⏎'), 10_000, 'the Enter kept as a newline')
  box.tmux(['send-keys', '-t', '=burst:', 'C-u'])

  const sent = await box.cli(['send', 'burst', 'fix the failing test', '--json'])
  assert.equal(sent.code, 0, sent.stderr)
  assert.deepEqual(parseJson(sent), {id: 'burst', host: null, name: 'burst', text: 'fix the failing test', enter: true, keys: ['Enter']})
  await waitFor(() => screen('burst').includes('SUBMITTED: "fix the failing test"'), 10_000, 'the prompt submitted')
  // A multi-line prompt arrives as one paste and is submitted whole.
  assert.equal((await box.cli(['send', 'burst', 'line one\nline two'])).code, 0)
  await waitFor(() => screen('burst').includes('SUBMITTED: "line one\\nline two"'), 10_000, 'the two-line prompt submitted')
})

test('send --key presses tmux keys in order, after the text and instead of Enter', async () => {
  await startPrompt('keys')
  const sent = await box.cli(['send', 'keys', 'draft', '--key', 'Escape', '--key', 'Up', '-k', 'C-c', '--key', 'Tab', '--json'])
  assert.equal(sent.code, 0, sent.stderr)
  assert.deepEqual(parseJson(sent), {id: 'keys', host: null, name: 'keys', text: 'draft', enter: false, keys: ['Escape', 'Up', 'C-c', 'Tab']})
  await waitFor(() => /KEY: 1b\nKEY: 1b5b41\nKEY: 03\nKEY: 09\n> draft$/m.test(screen('keys')), 10_000, 'Escape, Up, Ctrl-C and Tab after the draft')
  assert.ok(!screen('keys').includes('SUBMITTED'), 'no Enter was pressed')
  assert.equal((await box.cli(['send', 'keys', '--key', 'Enter'])).code, 0)
  await waitFor(() => screen('keys').includes('SUBMITTED: "draft"'), 10_000, 'Enter as a key')
})

test('send --key refuses a name that is not a tmux key, and sends nothing', async () => {
  await startPrompt('strict')
  for (const key of ['Foo', 'C-', 'Enter;', 'ab', '-', '#{pane_id}']) {
    assertHumanError(await box.cli(['send', 'strict', 'text', '--key', 'Up', '--key', key]), 'INVALID_ARGUMENT', 2, /unknown key .*: use a tmux key name such as Escape/)
  }
  assertJsonError(await box.cli(['send', 'strict', '--key', 'Esc', '--json']), 'INVALID_ARGUMENT', 2)
  assert.match(screen('strict'), /^>$/m)
  assert.doesNotMatch(screen('strict'), /KEY|text/)
})

test('send submits a prompt to the real Codex CLI', {timeout: 400_000}, async (t) => {
  const codex = await codexBinary()
  if (!codex) return t.skip('@openai/codex could not be installed from the npm registry')
  // Offline: a model provider on a closed local port, the folder trusted, so Codex opens on its prompt.
  const home = join(box.home, 'codex-home')
  const dir = join(box.home, 'codex-project')
  mkdirSync(join(home, '.codex'), {recursive: true})
  mkdirSync(dir, {recursive: true})
  writeFileSync(
    join(home, '.codex', 'config.toml'),
    [
      'model_provider = "offline"',
      'model = "gpt-5"',
      '[model_providers.offline]',
      'name = "offline"',
      'base_url = "http://127.0.0.1:9/v1"',
      'wire_api = "responses"',
      'requires_openai_auth = false',
      `[projects."${dir}"]`,
      'trust_level = "trusted"',
      '[tui]',
      'screen_reader_detection_done = true',
    ].join('\n'),
  )
  // Codex starts an app-server daemon from its home that outlives it (and that it restarts while
  // it runs): end Codex, stop the daemon, and end whatever still runs from that home.
  t.after(async () => {
    box.tmux(['kill-session', '-t', '=codex'])
    await stopCodex(codex, home)
  })
  await startAgent(box, 'codex', `HOME='${home}' '${codex}'`, ['--dir', dir])
  await waitFor(() => /^› Ask Codex to do anything/m.test(screen('codex')), 60_000, 'Codex to show its prompt')
  const sent = await box.cli(['send', 'codex', 'list the files in this folder'])
  assert.equal(sent.code, 0, sent.stderr)
  // Submitted: the prompt moves into the conversation and the input line is empty again.
  await waitFor(() => /^› list the files in this folder\n[\s\S]*^› Ask Codex to do anything/m.test(screen('codex')), 30_000, 'Codex to take the prompt')
})
