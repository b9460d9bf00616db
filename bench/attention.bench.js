// Agent attention: how fast a state change shows in `maestro ls --watch`, and what watching 50
// agents, 25 of them printing, costs `maestro serve` (CPU time of the server process while a page
// is subscribed, against the same server with nobody watching, in the same run).
import {execFileSync, spawn} from 'node:child_process'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import WebSocket from 'ws'

const BIN = fileURLToPath(new URL('../bin/run.js', import.meta.url))
const AGENTS = 50
const home = mkdtempSync(join(tmpdir(), 'maestro-bench-attention-'))
// Half the agents are a stand-in `claude` showing a recorded screen (screens to read), the other
// half print a line twice a second.
const fakeBin = join(home, 'bin')
mkdirSync(fakeBin)
writeFileSync(join(fakeBin, 'claude'), `#!/bin/sh\ncat ${fileURLToPath(new URL('../test/fixtures/screens/claude-working.txt', import.meta.url))}\nexec sleep 100000\n`, {mode: 0o755})
const socket = `maestro-bench-attention-${process.pid}`
const env = {...process.env, PATH: `${fakeBin}:${process.env.PATH}`, MAESTRO_TMUX_SOCKET: socket, MAESTRO_CONFIG_DIR: join(home, 'config'), MAESTRO_STATE_DIR: join(home, 'state')}
delete env.TMUX
const cli = (...args) => execFileSync(process.execPath, [BIN, ...args], {env, encoding: 'utf8'})
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const ticks = Number(execFileSync('getconf', ['CLK_TCK'], {encoding: 'utf8'}))

/** CPU seconds of a process and its finished children (the tmux clients serve runs to poll). */
function cpuSeconds(pid) {
  // utime, stime, cutime, cstime: fields 14-17 of /proc/PID/stat (after the command name).
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return fields.slice(11, 15).reduce((sum, field) => sum + Number(field), 0) / ticks
}

function tmuxServerPid() {
  return Number(execFileSync('tmux', ['-L', socket, 'display-message', '-p', '#{pid}'], {encoding: 'utf8'}).trim())
}

async function watchLatency(samples) {
  const watcher = spawn(process.execPath, [BIN, 'ls', '--watch'], {env})
  let output = ''
  watcher.stdout.on('data', (chunk) => (output += chunk))
  const latencies = []
  try {
    for (let index = 0; index < samples; index++) {
      const mark = `mark-${index}`
      const start = output.length
      cli('report', index % 2 ? 'waiting' : 'idle', '--agent', 'agent-0', '--message', mark)
      const reported = performance.now()
      while (!output.slice(start).includes(mark)) await sleep(5)
      latencies.push(performance.now() - reported)
    }
  } finally {
    watcher.kill()
  }
  return latencies
}

async function serverCpu(seconds) {
  const server = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--json'], {env: {...env, MAESTRO_TOKEN: 'bench-token-0123456789abcdef0123456789abcdef'}})
  const url = await new Promise((resolve, reject) => {
    let text = ''
    server.stdout.on('data', (chunk) => {
      text += chunk
      const line = text.split('\n').find((candidate) => candidate.startsWith('{'))
      if (line) resolve(new URL(JSON.parse(line).url))
    })
    server.on('exit', (code) => reject(new Error(`serve exited with ${code}`)))
  })
  try {
    const tmuxPid = tmuxServerPid()
    const measure = async () => {
      const start = [cpuSeconds(server.pid), cpuSeconds(tmuxPid)]
      await sleep(seconds * 1000)
      return [cpuSeconds(server.pid) - start[0], cpuSeconds(tmuxPid) - start[1]]
    }
    await sleep(1000)
    const idle = await measure()
    const events = new WebSocket(`ws://${url.host}/api/events`, {
      origin: url.origin,
      headers: {authorization: 'Bearer bench-token-0123456789abcdef0123456789abcdef'},
    })
    let messages = 0
    let received = ''
    events.on('message', (data) => {
      messages++
      received += data.toString()
    })
    await new Promise((resolve, reject) => events.once('open', resolve).once('error', reject))
    await sleep(1000)
    const watching = await measure()
    // What the page hears: from a report to the event that carries it.
    const pushLatencies = []
    for (let index = 0; index < 10; index++) {
      const mark = `page-mark-${index}`
      const start = received.length
      cli('report', index % 2 ? 'waiting' : 'idle', '--agent', 'agent-1', '--message', mark)
      const reported = performance.now()
      while (!received.slice(start).includes(mark)) await sleep(5)
      pushLatencies.push(performance.now() - reported)
    }
    events.close()
    return {idle, watching, messages, pushLatencies}
  } finally {
    server.kill('SIGTERM')
  }
}

try {
  for (let index = 0; index < AGENTS; index++) cli('new', `agent-${index}`, '--cmd', index % 2 ? 'claude' : 'while :; do echo tick; sleep 0.5; done')
  const latencies = await watchLatency(10)
  console.log(`ls --watch: state change shown after median ${median(latencies).toFixed(0)} ms, worst ${Math.max(...latencies).toFixed(0)} ms (goal: under 300 ms) with ${AGENTS} agents`)
  const seconds = 10
  const cpu = await serverCpu(seconds)
  const percent = (value) => `${((value / seconds) * 100).toFixed(1)}%`
  console.log(
    `serve watching ${AGENTS} agents (${AGENTS / 2} printing, ${AGENTS / 2} with screens to read): ${percent(cpu.watching[0])} of one core, ` +
      `tmux server ${percent(cpu.watching[1])} (nobody watching: ${percent(cpu.idle[0])}, tmux ${percent(cpu.idle[1])}; goal: serve under 1%)`,
  )
  console.log(
    `page: a state change reaches it after median ${median(cpu.pushLatencies).toFixed(0)} ms, worst ${Math.max(...cpu.pushLatencies).toFixed(0)} ms (goal: under 150 ms median)`,
  )
} finally {
  try {
    execFileSync('tmux', ['-L', socket, 'kill-server'], {stdio: 'ignore'})
  } catch {}
  rmSync(home, {recursive: true, force: true})
}
