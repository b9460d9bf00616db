import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, afterEach, before, test} from 'node:test'

import {spawn as spawnPty} from 'node-pty'
import WebSocket from 'ws'

import {CloseCode, OUTPUT_WINDOW_BYTES} from '../src/shared/protocol.js'
import {BIN, sandbox, waitFor} from './helpers.js'
import {
  type TestServer,
  Viewer,
  attachProcesses,
  exitOf,
  newAgent,
  openSocket,
  serve,
  serveChild,
  terminalPath,
} from './server-helpers.js'

const box = sandbox('server-bridge')
let t: TestServer

before(async () => {
  t = await serve(box)
})
after(async () => {
  await t?.server.close()
  box.cleanup()
})
// A failed test must not leave viewers behind to spoil the process counts of the next one.
const opened: Viewer[] = []
afterEach(async () => {
  for (const viewer of opened.splice(0)) if (!viewer.closed) viewer.ws.terminate()
  await waitFor(() => attachProcesses(box).length === 0, 5000, 'clean up').catch(() => undefined)
})

const screen = (name: string) => box.tmux(['capture-pane', '-p', '-t', `=${name}:`])
const windowSize = (name: string) => box.tmux(['display-message', '-p', '-t', `=${name}:`, '#{window_width}x#{window_height}']).trim()
const hasSession = (name: string) => {
  try {
    box.tmux(['has-session', '-t', `=${name}`])
    return true
  } catch {
    return false
  }
}
const noAttachLeft = () => waitFor(() => attachProcesses(box).length === 0, 5000, 'every tmux attach client to exit')

/** A viewer that has its first screen, so tmux is attached and reading its input. */
async function attached(server: TestServer, name: string, cols = 80, rows = 24): Promise<Viewer> {
  const viewer = await openSocket(server, terminalPath(name, cols, rows))
  opened.push(viewer)
  await viewer.waitForText('\u001b[?1049h')
  return viewer
}

test('output reaches two viewers of one agent at once', async () => {
  await newAgent(box, 'echoer', 'cat')
  const [a, b] = await Promise.all([attached(t, 'echoer'), attached(t, 'echoer')])
  // One tmux client each, addressing the agent exactly, with no shell in between.
  const clients = attachProcesses(box)
  assert.equal(clients.length, 2)
  for (const client of clients) assert.match(client, new RegExp(`^\\d+ tmux -L ${box.socket} attach-session -t =echoer$`))
  box.tmux(['send-keys', '-t', '=echoer:', '-l', 'SHARED-OUTPUT-1'])
  await Promise.all([a.waitForText('SHARED-OUTPUT-1'), b.waitForText('SHARED-OUTPUT-1')])
  await Promise.all([a.close(), b.close()])
  await noAttachLeft()
})

test('input from one viewer reaches the agent and every viewer sees it', async () => {
  const out = join(box.home, 'typed.txt')
  await newAgent(box, 'reader', `sh -c 'read line; printf %s "$line" > ${out}; sleep 60'`)
  const [typist, watcher] = await Promise.all([attached(t, 'reader'), attached(t, 'reader')])
  typist.send({type: 'input', data: 'typed through the socket\r'})
  await waitFor(() => existsSync(out) && readFileSync(out, 'utf8') === 'typed through the socket', 5000, 'the agent to read the line')
  await watcher.waitForText('typed through the socket')
  await Promise.all([typist.close(), watcher.close()])
})

test('closing a viewer detaches its tmux client and never ends the agent', async () => {
  await newAgent(box, 'stays', 'cat')
  const viewer = await attached(t, 'stays')
  assert.equal((await viewer.close()).code, 1005)
  await noAttachLeft()
  assert.ok(hasSession('stays'))
  assert.equal(box.tmux(['list-clients', '-t', '=stays']).trim(), '')
})

// The window is as tall as the client: maestro's tmux shows no status line.
test('a writable viewer sizes the window; the first screen is drawn at the size in the URL', async () => {
  await newAgent(box, 'sized', 'cat')
  const viewer = await attached(t, 'sized', 100, 30)
  await waitFor(() => windowSize('sized') === '100x30', 3000, 'the window to take the viewer size')
  viewer.send({type: 'resize', cols: 90, rows: 20})
  await waitFor(() => windowSize('sized') === '90x20', 3000, 'the resize')
  await viewer.close()
})

test('a second viewer is told the window size and takes it; its own size comes with its first keys, and the first viewer is told', async () => {
  await newAgent(box, 'shared', 'cat')
  const first = await attached(t, 'shared', 100, 30)
  await waitFor(() => windowSize('shared') === '100x30', 3000, 'the first viewer sizes the window')
  const second = await attached(t, 'shared', 40, 12)
  // Opening takes nothing over: its tmux client gets the window's size, and it is told so first.
  assert.deepEqual(second.notices[0], {type: 'size', cols: 100, rows: 30})
  assert.equal(windowSize('shared'), '100x30')
  // Typing, the page sends its own size first: the window follows it, and the first viewer,
  // whose client is now larger than the window, is told the new size.
  second.send({type: 'resize', cols: 40, rows: 12})
  second.send({type: 'input', data: 'typed-on-the-second\r'})
  await waitFor(() => windowSize('shared') === '40x12', 3000, 'the window to follow the second viewer')
  await waitFor(() => first.notices.some((notice) => notice.type === 'size' && notice.cols === 40 && notice.rows === 12), 3000, 'the first viewer to be told')
  await Promise.all([first.close(), second.close()])
})

test('a window resized by a plain tmux client (maestro attach) is told to the page viewers, which did not resize', async () => {
  await newAgent(box, 'elsewhere', 'cat')
  const viewer = await attached(t, 'elsewhere', 100, 30)
  await waitFor(() => windowSize('elsewhere') === '100x30', 3000, 'the viewer sizes the window')
  const env = {...box.env}
  delete env.TMUX
  // What `maestro attach` runs: a client of its own size, which the window follows (window-size latest).
  const terminal = spawnPty('tmux', ['-L', box.socket, 'attach-session', '-t', '=elsewhere'], {cols: 60, rows: 15, env})
  const exited = new Promise((resolve) => terminal.onExit(resolve))
  const told = (cols: number, rows: number) => viewer.notices.some((notice) => notice.type === 'size' && notice.cols === cols && notice.rows === rows)
  try {
    await waitFor(() => windowSize('elsewhere') === '60x15', 20_000, 'the window to follow the attached client')
    await waitFor(() => told(60, 15), 20_000, 'the page viewer to be told the size the attach client gave the window')
    terminal.resize(50, 12)
    await waitFor(() => windowSize('elsewhere') === '50x12', 20_000, 'the window to follow the resized client')
    await waitFor(() => told(50, 12), 20_000, 'the page viewer to be told the new size')
  } finally {
    terminal.kill()
    await exited
  }
  await viewer.close()
})

test('a read-only viewer cannot type and does not resize the window', async () => {
  const ro = await serve(box, {readonly: true})
  try {
    await newAgent(box, 'watched', 'cat')
    const before = windowSize('watched')
    const viewer = await attached(ro, 'watched', 50, 10)
    // Its tmux client has the window's size, not the one asked for, and the page is told so first.
    const [cols, rows] = before.split('x').map(Number)
    assert.deepEqual(viewer.notices[0], {type: 'size', cols, rows})
    assert.equal(box.tmux(['list-clients', '-t', '=watched', '-F', '#{client_width}x#{client_height}']).trim(), `${cols}x${rows}`)
    viewer.send({type: 'input', data: 'READONLY-TYPED\r'})
    viewer.send({type: 'resize', cols: 60, rows: 12})
    box.tmux(['send-keys', '-t', '=watched:', '-l', 'AFTER-READONLY'])
    await viewer.waitForText('AFTER-READONLY')
    assert.doesNotMatch(screen('watched'), /READONLY-TYPED/)
    assert.equal(windowSize('watched'), before)
    assert.match(box.tmux(['list-clients', '-t', '=watched', '-F', '#{client_flags}']), /read-only/)
    await viewer.close()
  } finally {
    await ro.server.close()
  }
})

test('when the agent program exits, viewers get its exit code and a clean close', async () => {
  await newAgent(box, 'quitter', `sh -c 'read x; exit 3'`)
  const [a, b] = await Promise.all([attached(t, 'quitter'), attached(t, 'quitter')])
  a.send({type: 'input', data: '\r'})
  const [closedA, closedB] = await Promise.all([a.closedPromise, b.closedPromise])
  assert.deepEqual([closedA.code, closedB.code], [CloseCode.agentExited, CloseCode.agentExited])
  // Besides the window's size, told to a viewer that joined another (see the next test but one).
  const ends = (notices: {type: string}[]) => notices.filter((notice) => notice.type !== 'size')
  assert.deepEqual(ends(a.notices), [{type: 'exit', code: 3}])
  assert.deepEqual(ends(b.notices), [{type: 'exit', code: 3}])
  await noAttachLeft()
})

test('a viewer and the page follow an agent renamed from the CLI, and the viewer still hears how it ended', {timeout: 20_000}, async () => {
  await newAgent(box, 'old-name', `sh -c 'read x; exit 4'`)
  const viewer = await attached(t, 'old-name')
  const events = await openSocket(t, '/api/events')
  try {
    await waitFor(() => events.notices.some((event) => event.type === 'agents' && event.agents.some((agent: {name: string}) => agent.name === 'old-name')), 5000, 'the list')
    const renamed = await box.cli(['rename', 'old-name', 'new-name'])
    assert.equal(renamed.code, 0, renamed.stderr)
    // The page hears of the rename as such (and keeps its terminal), before the list that shows it.
    await waitFor(() => events.notices.some((event) => event.type === 'renamed' && event.from === 'old-name' && event.to === 'new-name'), 5000, 'the rename event')
  } finally {
    await events.close()
  }
  viewer.send({type: 'input', data: '\r'})
  assert.equal((await viewer.closedPromise).code, CloseCode.agentExited)
  assert.deepEqual(viewer.notices, [{type: 'exit', code: 4}])
  await noAttachLeft()
})

test('when the agent is killed, viewers hear that it is gone and get a clean close', async () => {
  await newAgent(box, 'doomed', 'cat')
  const viewer = await attached(t, 'doomed')
  box.tmux(['kill-session', '-t', '=doomed'])
  assert.equal((await viewer.closedPromise).code, CloseCode.agentNotFound)
  assert.deepEqual(viewer.notices, [{type: 'gone'}])
  await noAttachLeft()
})

test('a viewer that keeps resizing while its agent is killed does not bring the server down', async () => {
  await newAgent(box, 'resized-away', 'cat')
  const viewer = await attached(t, 'resized-away')
  // A page refits its terminal as things move (a toast, a rotated phone): sizes keep coming while
  // tmux attach ends and the server finds out why. node-pty throws on resizing a pty that ended.
  let step = 0
  const resizing = setInterval(() => {
    if (viewer.ws.readyState === WebSocket.OPEN) viewer.send({type: 'resize', cols: 60 + (step++ % 40), rows: 20})
  }, 1)
  try {
    box.tmux(['kill-session', '-t', '=resized-away'])
    assert.equal((await viewer.closedPromise).code, CloseCode.agentNotFound)
  } finally {
    clearInterval(resizing)
  }
  await newAgent(box, 'still-served', 'cat')
  const next = await attached(t, 'still-served')
  next.send({type: 'input', data: 'served-after\r'})
  await next.waitForText('served-after')
})

test('a server out of file descriptors tells a new viewer so and closes it to be retried, not as an agent gone, and opens it once some are free', async () => {
  await newAgent(box, 'crowded', 'cat')
  // A real shortage: the server runs with few descriptors, and viewers are opened until one is refused.
  const child = spawn('sh', ['-c', 'ulimit -n 64; exec "$0" "$1" serve --port 0', process.execPath, BIN], {env: box.env, stdio: ['ignore', 'pipe', 'pipe']})
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk))
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk))
  const crowded: Viewer[] = []
  try {
    const url = new URL(await waitFor(() => /https?:\/\/\S+/.exec(output)?.[0], 20_000, 'the URL from maestro serve'))
    const server = {base: url.origin, origin: url.origin, token: url.searchParams.get('token')!, port: Number(url.port)} as TestServer
    let refused: Viewer | undefined
    for (let attempt = 0; attempt < 100 && !refused; attempt++) {
      const viewer = await openSocket(server, terminalPath('crowded'))
      crowded.push(viewer)
      const first = await Promise.race([viewer.waitForText('\u001b[?1049h').then(() => 'drawn'), viewer.closedPromise.then(() => 'closed')])
      if (first === 'closed') refused = viewer
    }
    assert.ok(refused, 'a viewer was refused before 100 were open')
    assert.equal(refused.closed?.code, 1011)
    assert.equal(refused.notices.length, 1, JSON.stringify(refused.notices))
    assert.deepEqual({type: refused.notices[0].type, code: (refused.notices[0] as {code?: string}).code}, {type: 'error', code: 'TMUX_FAILED'})
    assert.match((refused.notices[0] as {message: string}).message, /EMFILE/)
    for (const viewer of crowded) if (!viewer.closed) viewer.ws.close()
    await Promise.all(crowded.map((viewer) => viewer.closedPromise))
    const again = await waitFor(async () => {
      const viewer = await openSocket(server, terminalPath('crowded'))
      crowded.push(viewer)
      const first = await Promise.race([viewer.waitForText('\u001b[?1049h').then(() => 'drawn'), viewer.closedPromise.then(() => 'closed')])
      return first === 'drawn' && viewer
    }, 10_000, 'a viewer to open once descriptors are free')
    again.send({type: 'input', data: 'room-again\r'})
    await again.waitForText('room-again')
    assert.equal(child.exitCode, null, output)
  } finally {
    for (const viewer of crowded) if (!viewer.closed) viewer.ws.terminate()
    child.kill('SIGTERM')
    await exitOf(child)
  }
})

test('a terminal for an unknown agent gets an error notice and close code 4004', async () => {
  const viewer = await openSocket(t, terminalPath('nobody'))
  assert.equal((await viewer.closedPromise).code, CloseCode.agentNotFound)
  assert.equal(viewer.notices[0].code, 'AGENT_NOT_FOUND')
  // The previous test's clients may still be on their way out on a busy machine.
  await noAttachLeft()
})

test('no tmux client is left after viewers drop off the network', async () => {
  await newAgent(box, 'dropped', 'cat')
  const viewers = await Promise.all([attached(t, 'dropped'), attached(t, 'dropped'), attached(t, 'dropped')])
  assert.equal(attachProcesses(box).length, 3)
  // A reset connection: no close frame, the TCP socket just goes away.
  for (const viewer of viewers) viewer.ws.terminate()
  await noAttachLeft()
  assert.ok(hasSession('dropped'))
})

test('a peer that stops answering pings is dropped, and its tmux client with it', async () => {
  const beating = await serve(box, {heartbeatMs: 200})
  try {
    await newAgent(box, 'silent', 'cat')
    const ws = new WebSocket(`${beating.base.replace('http', 'ws')}${terminalPath('silent')}`, {
      headers: {authorization: `Bearer ${beating.token}`},
      origin: beating.origin,
      autoPong: false,
    })
    const viewer = new Viewer(ws)
    opened.push(viewer)
    await viewer.waitForText('\u001b[?1049h')
    assert.equal(attachProcesses(box).length, 1)
    assert.equal((await viewer.closedPromise).code, 1006)
    await noAttachLeft()
  } finally {
    await beating.server.close()
  }
})

test('stopping the server closes viewers with 1001 and leaves no tmux client', async () => {
  const stopping = await serve(box)
  await newAgent(box, 'survivor', 'cat')
  const viewers = await Promise.all([attached(stopping, 'survivor'), attached(stopping, 'survivor')])
  await stopping.server.close()
  assert.equal(attachProcesses(box).length, 0)
  for (const viewer of viewers) assert.equal((await viewer.closedPromise).code, CloseCode.goingAway)
  assert.ok(hasSession('survivor'))
})

test('maestro serve stops on SIGTERM with exit 0, and a killed server leaves no tmux client', async () => {
  await newAgent(box, 'orphan', 'cat')
  const graceful = await serveChild(box)
  const viewer = await attached(graceful.t, 'orphan')
  graceful.child.kill('SIGTERM')
  assert.equal(await exitOf(graceful.child), 0)
  assert.equal((await viewer.closedPromise).code, CloseCode.goingAway)
  await noAttachLeft()

  const killed = await serveChild(box)
  const viewers = await Promise.all([attached(killed.t, 'orphan'), attached(killed.t, 'orphan')])
  assert.equal(attachProcesses(box).length, 2)
  killed.child.kill('SIGKILL')
  await exitOf(killed.child)
  await Promise.all(viewers.map((one) => one.closedPromise))
  await noAttachLeft()
  assert.ok(hasSession('orphan'))
})

test('a viewer that never acknowledges is paused at the window while another keeps up, and its acknowledgements resume it', async () => {
  // tmux sends a client screen updates, not every byte: a large window makes them large.
  await newAgent(box, 'flood', `sh -c 'while :; do seq -s " " 1 400; done'`)
  // A browser that reads every frame at once but has stopped drawing them: the socket is not slow.
  const slow = await openSocket(t, terminalPath('flood', 1000, 400), {acknowledge: false})
  opened.push(slow)
  const fast = await attached(t, 'flood', 1000, 400)
  const slowStats = () => t.server.viewers().find((viewer) => viewer.agent === 'flood' && viewer.paused)
  const paused = await waitFor(slowStats, 30_000, 'the viewer that never acknowledges to be paused')
  assert.ok(paused.unacknowledged > OUTPUT_WINDOW_BYTES)
  // While the other viewer gets plenty more, the paused one gets nothing and the server holds no more for it.
  const slowBefore = slow.bytes
  const fastBefore = fast.bytes
  await waitFor(() => fast.bytes > fastBefore + 2 * OUTPUT_WINDOW_BYTES, 30_000, 'the acknowledging viewer to keep receiving')
  const held = slowStats()
  assert.ok(held, 'the viewer is still paused')
  assert.ok(held.unacknowledged < OUTPUT_WINDOW_BYTES + 256 * 1024, `${held.unacknowledged} bytes unacknowledged`)
  assert.ok(held.bufferedAmount < OUTPUT_WINDOW_BYTES + 256 * 1024, `${held.bufferedAmount} bytes queued`)
  assert.ok(slow.bytes - slowBefore < 256 * 1024, `the paused viewer got ${slow.bytes - slowBefore} bytes meanwhile`)
  assert.equal(fast.closed, undefined)

  // Acknowledging what it got resumes it (until a window's worth is unacknowledged again).
  const slowAfter = slow.bytes
  slow.send({type: 'ack', bytes: slow.bytes})
  await waitFor(() => slow.bytes > slowAfter + 64 * 1024, 10_000, 'the viewer to get output again once it acknowledged')
  box.tmux(['kill-session', '-t', '=flood'])
  await Promise.all([slow.closedPromise, fast.closedPromise])
  await noAttachLeft()
})

test('a viewer that acknowledges output it never reads cannot make the server queue more than the window', async () => {
  await newAgent(box, 'liar-flood', `sh -c 'while :; do seq -s " " 1 400; done'`)
  // A client that stops reading its socket yet keeps acknowledging far more than it was sent.
  const liar = await openSocket(t, terminalPath('liar-flood', 1000, 400), {acknowledge: false})
  opened.push(liar)
  ;(liar.ws as unknown as {_socket: {pause(): void}})._socket.pause()
  const lying = setInterval(() => liar.send({type: 'ack', bytes: Number.MAX_SAFE_INTEGER}), 5)
  try {
    const fast = await attached(t, 'liar-flood', 1000, 400)
    const queued = () => t.server.viewers().find((viewer) => viewer.agent === 'liar-flood' && viewer.bufferedAmount > 0)?.bufferedAmount ?? 0
    let most = 0
    // Kernel socket buffers take a few MB first; past them every byte would be queued in the server.
    await waitFor(() => {
      most = Math.max(most, queued())
      return fast.bytes > 24 * 1024 * 1024 || most > 2 * OUTPUT_WINDOW_BYTES
    }, 120_000, 'the other viewer to get 24 MB')
    assert.ok(most <= 2 * OUTPUT_WINDOW_BYTES, `the server queued ${most} bytes for a viewer that reads nothing`)
    assert.equal(fast.closed, undefined)
  } finally {
    clearInterval(lying)
  }
  box.tmux(['kill-session', '-t', '=liar-flood'])
  liar.ws.terminate()
  await noAttachLeft()
})

test('the agent\'s history comes once, as a notice before any output, to a viewer that asks for it', async () => {
  await newAgent(box, 'historian', `sh -c 'seq -f "old line %g" 1 200; exec cat'`)
  await waitFor(() => screen('historian').includes('old line 200'), 10_000, 'the agent to print its lines')
  const asking = await openSocket(t, `${terminalPath('historian')}&history=1`)
  opened.push(asking)
  await asking.waitForText('\u001b[?1049h')
  const history = asking.notices.filter((notice) => notice.type === 'history')
  assert.equal(history.length, 1)
  assert.equal(asking.notices[0].type, 'history', 'the history comes first')
  const lines = (history[0].data as string).split('\n')
  assert.equal(lines[0], 'old line 1')
  assert.ok(lines.includes('old line 170'), 'lines above the screen are in it')
  // A reconnection does not ask again, so its scrollback gets no second copy.
  const again = await attached(t, 'historian')
  assert.deepEqual(again.notices.filter((notice) => notice.type === 'history'), [])
  assert.doesNotMatch(again.text, /old line 1\b/)
  await Promise.all([asking.close(), again.close()])
})
