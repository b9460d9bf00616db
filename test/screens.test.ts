import assert from 'node:assert/strict'
import {readFileSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'node:test'

import {BUILT_IN, compileTable, programFor, readScreen} from '../src/attention/screens.js'
import {ROOT} from './helpers.js'

// Screens recorded from the real programs with `maestro capture`: PROGRAM-VERSION-SCREEN-STATE.txt.
const fixtures = join(ROOT, 'test', 'fixtures', 'screens')
const RECORDED = /^([a-z]+)-(\d[\d.]*)-(.+)-(waiting|working|idle|unknown)\.txt$/
const table = compileTable({}, BUILT_IN)

const recorded = readdirSync(fixtures).flatMap((file) => {
  const [, program, version, screen, state] = RECORDED.exec(file) ?? []
  return program ? [{file, program, version, screen, state}] : []
})

test('every program in the table has recorded screens', () => {
  for (const program of ['claude', 'codex', 'gemini', 'qwen', 'opencode', 'copilot']) {
    assert.ok(recorded.some((fixture) => fixture.program === program), program)
  }
})

for (const {file, program, version, screen, state} of recorded) {
  test(`${program} ${version}: the ${screen} screen reads ${state}`, () => {
    const text = readFileSync(join(fixtures, file), 'utf8')
    const reading = readScreen(table, programFor(table, `/usr/bin/${program}`), text)
    assert.equal(reading?.state ?? 'unknown', state)
    if (state === 'waiting') assert.ok(reading?.message, 'a waiting screen says what it waits for')
  })
}

test('generic prompts of any program read waiting, with the line that asks as the message', () => {
  const cases: Array<[string, string]> = [
    ['Setting up...\nOverwrite config.yml? [y/N] ', 'Overwrite config.yml? [y/N]'],
    ['Proceed (y/n)?', 'Proceed (y/n)?'],
    ['Installed.\n\nPress Enter to continue', 'Press Enter to continue'],
    ['  Do you trust the authors of this folder?\n\n  1. Yes\n  2. No', 'Do you trust the authors of this folder?'],
    ['Pick a template:\n  1. react\n❯ 2. vue\n  3. svelte\n', '❯ 2. vue'],
  ]
  for (const [screen, line] of cases) assert.deepEqual(readScreen(table, undefined, screen), {state: 'waiting', message: line}, screen)
})

test('a question answered and scrolled past, or a plain numbered list, is no prompt', () => {
  for (const screen of ['Overwrite config.yml? [y/N] y\nwritten\n$ ', 'Steps:\n  1. build\n  2. test\n$ ', 'press enter to continue\ncontinuing\n']) {
    assert.equal(readScreen(table, undefined, screen), undefined, screen)
  }
})

test("the user's own rules come first, and the generic ones still follow", () => {
  const mine = compileTable({programs: [{name: 'mytool', match: '\\bmytool\\b', rules: [{state: 'idle', pattern: '^ready>', lastLine: true}]}]}, BUILT_IN)
  const program = programFor(mine, 'mytool --fast')
  assert.equal(program?.name, 'mytool')
  assert.deepEqual(readScreen(mine, program, 'ready>'), {state: 'idle', message: null})
  assert.equal(readScreen(mine, program, 'Continue? [y/N]')?.state, 'waiting')
})
