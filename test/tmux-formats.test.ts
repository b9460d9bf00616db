import assert from 'node:assert/strict'
import {existsSync, mkdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, test} from 'node:test'

import {formatLiteral} from '../src/tmux/client.js'
import {sandbox, waitFor} from './helpers.js'
import {type TestServer, api, serve} from './server-helpers.js'

// Weakness 2 of issue 9: tmux expands formats in `new-session -c`, so a directory could run a command.
const box = sandbox('tmux-formats')
let t: TestServer
before(async () => {
  t = await serve(box)
})
after(async () => {
  await t?.server.close()
  box.cleanup()
})

/** A directory whose name would run `touch` if tmux expanded it, and one with a format in it. */
function hostileDirs(label: string): {run: string; format: string; pwned: string} {
  const pwned = join(box.home, `pwned-${label}`)
  const run = join(box.home, `d-${label}#(touch ${pwned})`)
  const format = join(box.home, `f-${label}#{session_name}##{pane_id}#[x]#`)
  mkdirSync(run, {recursive: true})
  mkdirSync(format, {recursive: true})
  return {run, format, pwned}
}

/** Where the agent's shell really started, as its own `pwd` prints it. */
async function startedIn(name: string): Promise<string> {
  const file = join(box.home, `pwd-${name}`)
  box.tmux(['send-keys', '-t', `=${name}:`, '-l', `pwd > '${file}'`])
  box.tmux(['send-keys', '-t', `=${name}:`, 'Enter'])
  return waitFor(() => (existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined), 10_000, `pwd of ${name}`)
}

test('formatLiteral makes any string literal in a tmux format', () => {
  box.tmux(['-f', '/dev/null', 'new-session', '-d', '-s', 'formats', 'cat'])
  for (const text of ['plain', '#{session_name}', '#(echo hi)', '##', 'a#', '#[fg=red]x', '##[x', 'a##{b}[', '#,#}#', '#(']) {
    assert.equal(box.tmux(['display-message', '-p', formatLiteral(text)]).replace(/\n$/, ''), text)
  }
})

test('maestro new --dir runs nothing from the directory name and starts exactly there', async () => {
  const dirs = hostileDirs('cli')
  for (const [name, dir] of [['cli-run', dirs.run], ['cli-format', dirs.format]]) {
    const result = await box.cli(['new', name, '--dir', dir, '--cmd', 'sh', '--json'])
    assert.equal(result.code, 0, result.stderr)
    assert.equal(JSON.parse(result.stdout).dir, dir)
    assert.equal(await startedIn(name), dir)
  }
  assert.equal(existsSync(dirs.pwned), false, 'the #(…) in the directory ran')
})

test('POST /api/agents with a hostile dir runs nothing and starts exactly there', async () => {
  const dirs = hostileDirs('api')
  for (const [name, dir] of [['api-run', dirs.run], ['api-format', dirs.format]]) {
    const created = await api(t, 'POST', '/api/agents', {name, dir, cmd: 'sh'})
    assert.equal(created.status, 201, JSON.stringify(created.json))
    assert.equal(created.json.dir, dir)
    assert.equal(await startedIn(name), dir)
  }
  assert.equal(existsSync(dirs.pwned), false, 'the #(…) in the directory ran')
})
