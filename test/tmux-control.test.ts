import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {readFileSync, readdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, test} from 'node:test'

import type {Agent} from '../src/shared/agent.js'
import {Tmux, TmuxCommandError, commandQuote} from '../src/tmux/client.js'
import {ControlClient} from '../src/tmux/control.js'
import {captureScreens, listSessions} from '../src/tmux/sessions.js'
import {AgentWatcher} from '../src/watch.js'
import {reportAgentState} from '../src/agents.js'
import {killTmuxServer, sandbox, waitFor} from './helpers.js'

const box = sandbox('control')
after(() => box.cleanup())

test('commandQuote passes any one-line string through tmux command parsing unchanged', async () => {
  box.tmux(['new-session', '-d', '-s', 'quoting', 'sleep 1000'])
  const values = [`it's`, `'`, `#{session_name} #(touch /tmp/x) # comment`, 'a; kill-server', 'a \\; b;', '$HOME ~ ${X}', '"quoted" \\"', '\u001f\u001e']
  const lines = values.map((value, index) => `set-option -t =quoting: @v${index} ${commandQuote(value)}`).join('\n')
  const client = spawn('tmux', ['-L', box.socket, '-C', 'attach', '-t', '=quoting'], {env: box.env})
  client.stdin.end(`${lines}\n`)
  await new Promise((resolve) => client.on('close', resolve))
  values.forEach((value, index) => assert.equal(box.tmux(['show-options', '-v', '-t', '=quoting:', `@v${index}`]).replace(/\n$/, ''), value))
  assert.throws(() => commandQuote('two\nlines'), /line break/)
})

test('the watcher follows agents through tmux events, across a tmux server that dies and comes back', async () => {
  const watcher = new AgentWatcher(new Tmux(box.socket, box.env), box.context)
  let latest: Agent[] = []
  watcher.subscribe((agents) => (latest = agents))
  try {
    const names = () => latest.map((agent) => agent.name).join(' ')
    await waitFor(() => names() === 'quoting', 5000, 'the first list')
    box.tmux(['new-session', '-d', '-s', 'appears', 'sh -c "echo hello; exec sleep 1000"'])
    await waitFor(() => names() === 'appears quoting', 5000, 'the new agent')
    const since = latest.find((agent) => agent.name === 'appears')!.stateSince
    box.tmux(['rename-session', '-t', '=appears', 'renamed'])
    await waitFor(() => names() === 'quoting renamed', 5000, 'the rename')
    assert.equal(latest.find((agent) => agent.name === 'renamed')!.stateSince, since, 'a renamed agent keeps the time its state began')
    // The watcher's own session is never listed, and nothing else was created.
    assert.deepEqual(box.tmux(['list-sessions', '-F', '#{session_name}']).split('\n').filter((name) => name && !name.startsWith('_maestro-')).sort(), ['quoting', 'renamed'])

    killTmuxServer(box.socket)
    await waitFor(() => latest.length === 0, 5000, 'the empty list once tmux is gone')
    box.tmux(['new-session', '-d', '-s', 'reborn', 'sleep 1000'])
    await waitFor(() => names() === 'reborn', 5000, 'the agent on the new tmux server')
    box.tmux(['new-session', '-d', '-s', 'second', 'sleep 1000'])
    await waitFor(() => names() === 'reborn second', 5000, 'an agent seen through the new control client')
  } finally {
    await watcher.stop()
  }
  assert.deepEqual(box.tmux(['list-sessions', '-F', '#{session_name}']).split('\n').filter(Boolean).sort(), ['reborn', 'second'], 'the watcher leaves no session behind')
})

// tmux 3.3 can run commands written to a new control client before its own new-session, when
// they fail ("not a control client"), about one time in three: a client that lost its
// subscriptions would never hear a change. One after another: tmux before 3.7 can crash when a
// session comes or goes while a control client connects (tmux/tmux#4980).
test('every control client hears its subscriptions, however soon after starting tmux reads its input', async () => {
  box.tmux(['new-session', '-d', '-s', 'subscribed', 'sleep 1000'])
  const clients: ControlClient[] = []
  try {
    for (let round = 0; round < 10; round++) {
      let heard = false
      clients.push(new ControlClient(new Tmux(box.socket, box.env), {
        snapshot: (sessions) => {
          heard ||= sessions.some((session) => session.name === 'subscribed')
        },
        changed: () => undefined,
        closed: () => undefined,
      }))
      await waitFor(() => heard, 5000, `a snapshot on client ${round + 1}`)
    }
  } finally {
    await Promise.all(clients.map((client) => client.close()))
  }
  assert.deepEqual(box.tmux(['list-sessions', '-F', '#{session_name}']).split('\n').filter((name) => name.startsWith('_maestro-')), [], 'every client ends its session')
})

// The crash behind CONTROL_CLIENT_CRASH, made to happen: before, every report made and ended a
// session of its own, and every watcher one more; tmux 3.3 ended its server (every agent) within a
// few rounds of this.
test('reports made while watchers connect, and watchers coming and going, never end the tmux server', {timeout: 60_000}, async () => {
  box.tmux(['new-session', '-d', '-s', 'survivor', 'sleep 1000'])
  const tmux = new Tmux(box.socket, box.env)
  const first = new AgentWatcher(tmux, box.context)
  let reported = ''
  first.subscribe((agents) => (reported = agents.find((agent) => agent.name === 'survivor')?.stateMessage ?? ''))
  try {
    await waitFor(() => first.latest.some((agent) => agent.name === 'survivor'), 5000, 'the first watcher')
    for (let round = 0; round < 15; round++) {
      const watcher = new AgentWatcher(tmux, box.context)
      watcher.subscribe(() => undefined)
      await Promise.all(Array.from({length: 4}, (_, index) => reportAgentState(tmux, {name: 'survivor'}, 'waiting', `round ${round}.${index}`)))
      await watcher.stop()
    }
    // The watcher that stayed heard the last report through the wake, not its once-a-second subscription alone.
    await waitFor(() => /^round 14\./.test(reported), 5000, 'the last report to reach the watcher')
    assert.equal(box.tmux(['display-message', '-p', '-t', '=survivor:', '#{pane_dead}']).trim(), '0', 'the agent still runs')
  } finally {
    await first.stop()
  }
  assert.deepEqual(box.tmux(['list-sessions', '-F', '#{session_name}']).split('\n').filter((name) => name.startsWith('_maestro-')), [], 'the last watcher ends the seat')
})

// A screen can show any line, tmux's own reply framing too; the control client must give each
// command exactly its reply, and a failing command tmux's own error, as a tmux process would.
test('commands run through the watcher’s control client answer exactly as a tmux process does, whatever a screen shows', {timeout: 60_000}, async () => {
  const now = Math.floor(Date.now() / 1000)
  // Forged framing for the next few hundred command numbers, and a forged snapshot.
  const forged = [
    ...Array.from({length: 20}, (_, index) => `%end ${now} ${index * 13} 1`),
    `%error ${now} 300 1`,
    '%begin 1 2 1',
    '%subscription-changed maestro $1 - - - : forged',
    '%sessions-changed',
  ]
  const script = join(box.home, 'forger.sh')
  writeFileSync(script, `printf '%s\\n' ${forged.map((line) => `'${line}'`).join(' ')}; exec sleep 1000\n`)
  box.tmux(['new-session', '-d', '-s', 'forger', `sh ${script}`])
  box.tmux(['new-session', '-d', '-s', 'honest', 'sh -c "echo plain text; exec sleep 1000"'])
  await waitFor(() => box.tmux(['capture-pane', '-p', '-t', '=forger:']).includes('%sessions-changed'), 5000, 'the forged screen')
  const tmux = new Tmux(box.socket, box.env)
  let snapshots = 0
  let forgedHeard = false
  const control = new ControlClient(tmux, {
    snapshot: (sessions) => {
      snapshots++
      forgedHeard ||= sessions.length === 0
    },
    changed: () => undefined,
    closed: () => undefined,
  })
  try {
    await waitFor(() => snapshots > 0, 5000, 'the control client')
    const names = ['forger', 'honest', 'forger']
    assert.deepEqual(await captureScreens(control, names), await captureScreens(tmux, names))
    assert.match((await captureScreens(control, ['forger'])).get('forger')!.text, /%end \d+ 13 1\n[^]*%subscription-changed maestro \$1 - - - : forged\n%sessions-changed/)
    assert.deepEqual(await listSessions(control), await listSessions(tmux))
    // Several at once, as a watcher under load asks.
    const [a, b] = await Promise.all([captureScreens(control, ['honest']), listSessions(control)])
    assert.equal(a.get('honest')!.text.split('\n')[0], 'plain text')
    assert.ok(b.some((session) => session.name === 'forger'))
    // A command that fails stops the rest, with tmux's own message, as a tmux process would.
    const failure = (run: typeof tmux) => run.exec([['display-message', '-p', 'first'], ['capture-pane', '-p', '-t', '=nowhere:'], ['display-message', '-p', 'never']]).then(() => 'ran', (error: TmuxCommandError) => `${error.constructor.name}: ${error.stderr}`)
    assert.equal(await failure(control as unknown as Tmux), await failure(tmux))
    assert.match(await failure(tmux), /^TmuxCommandError: can't find session: nowhere$/)
    assert.equal(forgedHeard, false, 'no forged line was taken for a notification')
  } finally {
    await control.close()
  }
})

// A tmux client killed by a signal has no exit code: readings must still be answered.
test('a control client whose tmux process was killed answers through a tmux process, and closes at once', {timeout: 20_000}, async () => {
  box.tmux(['new-session', '-d', '-s', 'orphaned', 'sleep 1000'])
  const tmux = new Tmux(box.socket, box.env)
  let heard = false
  const control = new ControlClient(tmux, {snapshot: () => (heard = true), changed: () => undefined, closed: () => undefined})
  await waitFor(() => heard, 5000, 'the control client')
  const client = readdirSync('/proc').find((pid) => {
    try {
      return /^\d+$/.test(pid) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').startsWith(`tmux -L ${box.socket} -C new-session`)
    } catch {
      return false
    }
  })
  process.kill(Number(client), 'SIGKILL')
  await control.closed
  assert.deepEqual(await listSessions(control), await listSessions(tmux))
  await control.close()
})
