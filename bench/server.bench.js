// maestro serve against a bare node-pty `tmux attach` in the same run, on one private tmux server:
// flood delivery time, keystroke echo latency, and the server's memory per viewer. The server runs
// as its own process (as in use), so it never shares an event loop with the measuring client.
// Sides alternate so that load on the machine hits both alike; medians are compared.
// Goals (issue 3): flood ≤ 1.1× bare; echo median within 0.5 ms of bare, p99 < 5 ms;
// < 2 MiB of server RSS per extra viewer (20 agents × 2 viewers).
import {execFileSync, spawn} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {spawn as spawnPty} from 'node-pty'
import WebSocket from 'ws'

import {Tmux} from '../dist/tmux/client.js'
import {killSession, newSession} from '../dist/tmux/sessions.js'

const BIN = fileURLToPath(new URL('../bin/run.js', import.meta.url))
const FLOOD_RUNS = Number(process.env.BENCH_RUNS) || 9
const KEYSTROKES = 300
const FLOOD_TIMEOUT_MS = 30_000
const COLS = 120
const ROWS = 40

const socket = `maestro-bench-server-${process.pid}`
const home = mkdtempSync(join(tmpdir(), 'maestro-bench-server-'))
const env = {...process.env, MAESTRO_TMUX_SOCKET: socket, MAESTRO_CONFIG_DIR: join(home, 'config'), MAESTRO_STATE_DIR: join(home, 'state')}
const tmux = new Tmux(socket, env)
delete env.TMUX

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const median = (values) => quantile(values, 0.5)
function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
}
const rssOf = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024
const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`

/**
 * A terminal on one agent, bare or through the server, with the same small surface. It keeps
 * the tail of its output, so a wait for text that already went past returns at once.
 */
function terminal(type, close) {
  const listeners = new Set()
  const self = {
    tail: '',
    ready: Promise.resolve(),
    type,
    close,
    data(chunk) {
      self.tail = (self.tail + chunk.toString('latin1')).slice(-4096)
      for (const listener of listeners) listener(chunk)
    },
    onData: (listener) => listeners.add(listener),
    offData: (listener) => listeners.delete(listener),
  }
  return self
}

function bareTerminal(name) {
  const {file, args} = tmux.attachCommand(name)
  // The same terminal type as the server gives its tmux clients, so tmux draws the same way.
  const pty = spawnPty(file, args, {name: 'xterm-256color', cols: COLS, rows: ROWS, env: {...env, TERM: 'xterm-256color'}, encoding: null})
  const self = terminal(
    (data) => pty.write(data),
    () => new Promise((resolve) => (pty.onExit(() => resolve()), pty.kill())),
  )
  pty.onData((chunk) => self.data(chunk))
  return self
}

function socketTerminal(server, name) {
  const ws = new WebSocket(`${server.base.replace('http', 'ws')}/api/agents/${name}/terminal?cols=${COLS}&rows=${ROWS}`, {
    headers: {authorization: `Bearer ${server.token}`},
    origin: server.base,
    perMessageDeflate: false,
  })
  const self = terminal(
    (data) => ws.send(JSON.stringify({type: 'input', data})),
    () => new Promise((resolve) => (ws.once('close', resolve), ws.close())),
  )
  self.ready = new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)))
  ws.on('message', (data, isBinary) => {
    if (!isBinary) return
    self.data(data)
    // As the page does once its terminal has written the output (see OUTPUT_WINDOW_BYTES).
    ws.send(JSON.stringify({type: 'ack', bytes: data.length}))
  })
  return self
}

/** Resolves once `text` went past in the terminal's output (it may span chunks). */
function seen(terminal, text) {
  if (terminal.tail.includes(text)) return Promise.resolve()
  return new Promise((resolve) => {
    const listener = () => {
      if (!terminal.tail.includes(text)) return
      terminal.offData(listener)
      resolve()
    }
    terminal.onData(listener)
  })
}

async function startServer() {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--json', '--max-clients', '200'], {env, stdio: ['ignore', 'pipe', 'inherit']})
  const line = await new Promise((resolve) => {
    let out = ''
    child.stdout.on('data', (chunk) => {
      out += chunk
      if (out.includes('\n')) resolve(out.split('\n')[0])
    })
  })
  const url = new URL(JSON.parse(line).url)
  return {child, base: url.origin, token: url.searchParams.get('token')}
}

function stop(server) {
  if (server.child.exitCode !== null) return Promise.resolve()
  server.child.kill('SIGTERM')
  return new Promise((resolve) => server.child.once('exit', resolve))
}

async function floodOnce(open, index) {
  const name = `flood-${index}`
  await newSession(tmux, {name, dir: home, command: `sh -c 'read go; seq 1 200000; echo flood-done; exec cat'`})
  const terminal = open(name)
  await terminal.ready
  await seen(terminal, '\u001b[?1049h')
  await sleep(200)
  terminal.tail = ''
  const done = seen(terminal, 'flood-done')
  const start = performance.now()
  terminal.type('\r')
  // On a loaded machine tmux now and then leaves a client's last screen undrawn; such a run is
  // reported and left out rather than hanging the bench.
  const finished = await Promise.race([done.then(() => true), sleep(FLOOD_TIMEOUT_MS).then(() => false)])
  const elapsed = performance.now() - start
  if (!finished) console.log(`  (${name}: no final screen after ${FLOOD_TIMEOUT_MS} ms; last output ${JSON.stringify(terminal.tail.slice(-120))})`)
  await terminal.close()
  await killSession(tmux, name)
  return finished ? elapsed : undefined
}

/**
 * The floor under any WebSocket terminal: one frame to another Node process and one back,
 * with nothing else in between. The bridge's echo cannot beat bare pty echo by less than this.
 */
async function socketRoundTrips(count) {
  const code = `import {WebSocketServer} from 'ws'
const wss = new WebSocketServer({port: 0, host: '127.0.0.1', perMessageDeflate: false})
wss.on('listening', () => console.log(wss.address().port))
wss.on('connection', (ws) => ws.on('message', () => ws.send(Buffer.from('x'), {binary: true})))`
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], {cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: ['ignore', 'pipe', 'inherit']})
  const port = await new Promise((resolve) => child.stdout.once('data', (data) => resolve(String(data).trim())))
  const ws = new WebSocket(`ws://127.0.0.1:${port}`, {perMessageDeflate: false})
  await new Promise((resolve) => ws.once('open', resolve))
  const latencies = []
  for (let i = 0; i < count; i++) {
    const start = performance.now()
    ws.send(JSON.stringify({type: 'input', data: 'x'}))
    await new Promise((resolve) => ws.once('message', resolve))
    latencies.push(performance.now() - start)
    await sleep(8)
  }
  ws.close()
  child.kill()
  return latencies
}

async function echoLatencies(terminal, count) {
  const latencies = []
  for (let i = 0; i < count; i++) {
    const arrived = new Promise((resolve) => {
      const listener = () => (terminal.offData(listener), resolve())
      terminal.onData(listener)
    })
    const start = performance.now()
    terminal.type('x')
    await arrived
    latencies.push(performance.now() - start)
    await sleep(8)
  }
  return latencies
}

// An agent that lives through the whole run: tmux exits with its last session, and a session
// started while it is exiting fails with "server exited unexpectedly".
await newSession(tmux, {name: 'keeper', dir: home, command: 'cat'})
const server = await startServer()
try {
  // 1. Flood.
  const bare = []
  const viaSocket = []
  await floodOnce((name) => bareTerminal(name), 'warm-bare')
  await floodOnce((name) => socketTerminal(server, name), 'warm-ws')
  for (let run = 0; run < FLOOD_RUNS; run++) {
    const bareTime = await floodOnce((name) => bareTerminal(name), `bare-${run}`)
    const socketTime = await floodOnce((name) => socketTerminal(server, name), `ws-${run}`)
    if (bareTime !== undefined) bare.push(bareTime)
    if (socketTime !== undefined) viaSocket.push(socketTime)
  }
  const floodRatio = median(viaSocket) / median(bare)
  console.log(`flood: seq 1 200000, ${COLS}x${ROWS}, medians of ${bare.length} bare and ${viaSocket.length} WebSocket runs`)
  console.log(`  bare node-pty tmux attach   ${median(bare).toFixed(0).padStart(6)} ms`)
  console.log(`  through WebSocket           ${median(viaSocket).toFixed(0).padStart(6)} ms   ratio ${floodRatio.toFixed(2)}x (goal <= 1.1x)`)

  // 2. Keystroke echo, alternating batches of 50 on two idle agents.
  await newSession(tmux, {name: 'echo-bare', dir: home, command: 'cat'})
  await newSession(tmux, {name: 'echo-ws', dir: home, command: 'cat'})
  const echoBare = bareTerminal('echo-bare')
  const echoSocket = socketTerminal(server, 'echo-ws')
  await echoSocket.ready
  await Promise.all([seen(echoBare, '\u001b[?1049h'), seen(echoSocket, '\u001b[?1049h')])
  await sleep(300)
  await echoLatencies(echoBare, 20)
  await echoLatencies(echoSocket, 20)
  const bareLatency = []
  const socketLatency = []
  for (let batch = 0; batch < KEYSTROKES / 50; batch++) {
    bareLatency.push(...(await echoLatencies(echoBare, 50)))
    socketLatency.push(...(await echoLatencies(echoSocket, 50)))
  }
  await Promise.all([echoBare.close(), echoSocket.close()])
  const floor = await socketRoundTrips(KEYSTROKES)
  const delta = median(socketLatency) - median(bareLatency)
  console.log(`keystroke echo (cat), ${KEYSTROKES} keys each`)
  console.log(`  bare node-pty   median ${median(bareLatency).toFixed(2)} ms  p99 ${quantile(bareLatency, 0.99).toFixed(2)} ms`)
  console.log(
    `  WebSocket       median ${median(socketLatency).toFixed(2)} ms  p99 ${quantile(socketLatency, 0.99).toFixed(2)} ms   ` +
      `median +${delta.toFixed(2)} ms (goal <= 0.5 ms), p99 goal < 5 ms`,
  )
  console.log(
    `  floor: a bare WebSocket round trip between two Node processes, median ${median(floor).toFixed(2)} ms  p99 ${quantile(floor, 0.99).toFixed(2)} ms; ` +
      `the bridge adds ${(delta - median(floor)).toFixed(2)} ms beyond it`,
  )

  // 3. Memory: a fresh server idle, then with 20 agents and 2 viewers each.
  const fresh = await startServer()
  await sleep(1000)
  const idle = rssOf(fresh.child.pid)
  const viewers = []
  for (let index = 0; index < 20; index++) {
    const name = `mem-${String(index).padStart(2, '0')}`
    await newSession(tmux, {name, dir: home, command: 'cat'})
    for (let copy = 0; copy < 2; copy++) {
      const terminal = socketTerminal(fresh, name)
      viewers.push(terminal)
      await terminal.ready
      await seen(terminal, '\u001b[?1049h')
    }
  }
  await sleep(1500)
  const loaded = rssOf(fresh.child.pid)
  const perViewer = (loaded - idle) / viewers.length
  console.log(`server memory (RSS of the maestro serve process)`)
  console.log(`  idle ${mib(idle)}, 20 agents x 2 viewers ${mib(loaded)}: ${mib(perViewer)} per viewer (goal < 2 MiB)`)
  await Promise.all(viewers.map((terminal) => terminal.close()))
  await stop(fresh)
} finally {
  await stop(server)
  try {
    execFileSync('tmux', ['-L', socket, 'kill-server'], {stdio: 'ignore'})
  } catch {
    // no server left
  }
  // tmux 3.3 leaves the socket file behind.
  rmSync(join(process.env.TMUX_TMPDIR || '/tmp', `tmux-${process.getuid()}`, socket), {force: true})
  rmSync(home, {recursive: true, force: true})
}
