import assert from 'node:assert/strict'
import {existsSync, mkdirSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, test} from 'node:test'

import {assertHumanError, assertJsonError, parseJson, sessionNames, startAgent} from './cli-helpers.js'
import {sandbox} from './helpers.js'

const box = sandbox('names')
const dir = join(box.home, 'agent-dir')
mkdirSync(dir)

before(() => startAgent(box, 'api'))
after(() => box.cleanup())

/**
 * Names tmux would read as targets, patterns, options or shell words, and names out of bounds.
 * `host:name` is an agent on a remote host, so only ids that split badly are here.
 */
const INVALID = [':b', 'a:', 'a:b:c', '-t:b', 'a.b', '-t', '$(touch x)', '', 'a'.repeat(65), 'héllo', '日本', '=api', 'ap*', '%0', '@0', 'a b', '../x', '_lead', 'semi;']
const LONGEST = 'b'.repeat(64)

test('new refuses every invalid name with exit 2 and INVALID_NAME, creating nothing', async () => {
  const results = await Promise.all(INVALID.map((name) => box.cli(['new', '--json', '--dir', dir, '--cmd', 'sleep 1000', '--', name])))
  results.forEach((result, index) => {
    const error = assertJsonError(result, 'INVALID_NAME', 2)
    assert.match(error.message, /use 1-64 letters, digits, "_" or "-", starting with a letter or digit/, INVALID[index])
  })
  assert.deepEqual(sessionNames(box), ['api'])
  assert.ok(!existsSync(join(dir, 'x')) && !existsSync('x'), '$(touch x) ran somewhere')
})

test('the human error for a bad name is one line that says what is allowed', async () => {
  const result = await box.cli(['new', '--dir', dir, '--', '$(touch x)'])
  assertHumanError(result, 'INVALID_NAME', 2, /^Error: invalid agent name "\$\(touch x\)": use 1-64 letters, digits/)
})

test('a name of 64 characters, digits, "_" and "-" is accepted', async () => {
  await startAgent(box, LONGEST)
  await startAgent(box, '9lives_x-1')
  assert.deepEqual(sessionNames(box), ['9lives_x-1', 'api', LONGEST])
  await box.cli(['kill', LONGEST, '9lives_x-1'])
})

test('every command that takes a name refuses target-like names before touching tmux', async () => {
  const commands = [
    (name: string) => ['kill', '--json', '--', 'api', name],
    (name: string) => ['note', '--json', '--', name],
    (name: string) => ['note', '--json', '--', name, 'text'],
    (name: string) => ['send', '--json', '--', name, 'text'],
    (name: string) => ['capture', '--json', '--', name],
    (name: string) => ['attach', '--json', '--', name],
    (name: string) => ['rename', '--json', '--', name, 'fine'],
    (name: string) => ['rename', '--json', '--', 'api', name],
  ]
  // Two names per command, so every kind of name meets several commands without 32 processes.
  const names = ['a:b:c', '-t', '=api', 'ap*']
  const runs = commands.flatMap((command, index) => [names[index % 4], names[(index + 1) % 4]].map((name) => box.cli(command(name))))
  for (const result of await Promise.all(runs)) assertJsonError(result, 'INVALID_NAME', 2)
  assert.deepEqual(sessionNames(box), ['api'])
  assert.equal((await box.cli(['capture', 'api'])).code, 0)
})

test('a prefix of an agent name never reaches that agent', async () => {
  const results = await Promise.all([
    box.cli(['kill', 'ap', '--json']),
    box.cli(['note', 'ap', 'text', '--json']),
    box.cli(['send', 'ap', 'text', '--json']),
    box.cli(['capture', 'ap', '--json']),
    box.cli(['rename', 'ap', 'other', '--json']),
    box.cli(['attach', 'ap', '--json']),
  ])
  for (const result of results) assertJsonError(result, 'AGENT_NOT_FOUND', 1)
  assert.deepEqual(sessionNames(box), ['api'])
  assert.equal(parseJson(await box.cli(['note', 'api', '--json'])).text, '')
})
