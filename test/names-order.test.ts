import assert from 'node:assert/strict'
import {test} from 'node:test'

import {compareNames} from '../src/shared/names.js'

test('agent names sort as English collation sorts them, without setting up a collator', () => {
  const english = new Intl.Collator('en')
  const alphabet = 'aAbBmMzZ0519_-'
  const name = (seed: number) => {
    let text = ''
    for (let length = 1 + (seed % 6); length > 0; length--) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      text += alphabet[seed % alphabet.length]
    }
    return text
  }
  for (let seed = 1; seed < 20_000; seed++) {
    const [a, b] = [name(seed), name(seed * 7 + 3)]
    assert.equal(compareNames(a, b), Math.sign(english.compare(a, b)), `${a} against ${b}`)
  }
  assert.deepEqual(['b', 'a-b', 'ab', 'A', 'a', '9', 'a_b'].sort(compareNames), ['9', 'a', 'A', 'a_b', 'a-b', 'ab', 'b'])
})

test('a session named outside the agent name rule sorts as before: its other characters before "_"', () => {
  assert.deepEqual(['a-b', 'a.b', 'a', 'A_b', 'a_c'].sort(compareNames), ['a', 'a.b', 'A_b', 'a_c', 'a-b'])
})
