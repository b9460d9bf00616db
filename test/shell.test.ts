import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {test} from 'node:test'

import {shellCommand, shellQuote} from '../src/shared/shell.js'
import {HOSTILE} from './hostile.js'

/** What `sh` (dash on Debian, as on most remote hosts) reads back from our command line. */
function throughShell(words: string[]): string[] {
  // printf prints each argument followed by a NUL, so every byte comes back as it arrived.
  const out = execFileSync('sh', ['-c', `printf '%s\\0' ${shellCommand(words)}`], {encoding: 'utf8'})
  return out.split('\0').slice(0, -1)
}

test('every hostile string crosses a POSIX shell unchanged, as one word', () => {
  for (const word of HOSTILE) assert.deepEqual(throughShell([word]), [word], JSON.stringify(word))
  assert.deepEqual(throughShell(HOSTILE), HOSTILE)
})

test('bash reads the quoted words back the same way', () => {
  const out = execFileSync('bash', ['-c', `printf '%s\\0' ${shellCommand(HOSTILE)}`], {encoding: 'utf8'})
  assert.deepEqual(out.split('\0').slice(0, -1), HOSTILE)
})

test('a quoted word is one single-quoted string, and a NUL is refused', () => {
  assert.equal(shellQuote("it's"), "'it'\\''s'")
  assert.throws(() => shellQuote('a\0b'), {code: 'INVALID_ARGUMENT'})
})
