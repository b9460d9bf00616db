import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, test} from 'node:test'

import {ROOT} from './helpers.js'

const dir = mkdtempSync(join(tmpdir(), 'maestro-readme-'))
after(() => rmSync(dir, {recursive: true, force: true}))

function checkReadme(file: string): Promise<{code: number; output: string}> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, 'scripts', 'readme.js'), '--check', '--readme', file], (error, stdout, stderr) =>
      resolve({code: error ? Number(error.code) : 0, output: stdout + stderr}),
    )
  })
}

test('the README command reference is current, and the check fails on a stale one', async () => {
  const current = await checkReadme(join(ROOT, 'README.md'))
  assert.equal(current.code, 0, current.output)
  const stale = join(dir, 'README.md')
  // As if someone added the send command without regenerating.
  writeFileSync(stale, readFileSync(join(ROOT, 'README.md'), 'utf8').replace(/^\| `maestro send .*\n/m, ''))
  const result = await checkReadme(stale)
  assert.equal(result.code, 1)
  assert.match(result.output, /command reference is stale; run `npm run build && npm run readme`/)
})
