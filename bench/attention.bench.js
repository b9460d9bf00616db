// Agent attention: how fast a state change shows in `maestro ls --watch`, and what watching 50
// agents costs `maestro serve` (CPU time of the server process while a page is subscribed,
// against the same server with nobody watching, in the same run).
import {execFileSync, spawn} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import WebSocket from 'ws'

const BIN = fileURLToPath(new URL('../bin/run.js', import.meta.url))
const AGENTS = 50
const home = mkdtempSync(join(tmpdir(), 'maestro-bench-attention-'))
const socket = `maestro-bench-attention-${process.pid}`
const env = {...process.env, MAESTRO_TMUX_SOCKET: socket, MAESTRO_CONFIG_DIR: join(home, 'config'), MAESTRO_STATE_DIR: join(home, 'state')}
delete env.TMUX
const cli = (...args) => execFileSync(process.execPath, [BIN, ...args], {env, encoding: 'utf8'})
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const ticks = Number(execFileSync('getconf', ['CLK_TCK'], {encoding: 'utf8'}))

function cpuSeconds(pid) {
  // utime and stime, fields 14 and 15 of /proc/PID/stat (after the parenthesised command name).
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) / ticks
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
    await sleep(1000)
    let before = cpuSeconds(server.pid)
    await sleep(seconds * 1000)
    const idle = cpuSeconds(server.pid) - before
    const events = new WebSocket(`ws://${url.host}/api/events`, {
      origin: url.origin,
      headers: {authorization: 'Bearer bench-token-0123456789abcdef0123456789abcdef'},
    })
    let messages = 0
    events.on('message', () => messages++)
    await new Promise((resolve, reject) => events.once('open', resolve).once('error', reject))
    await sleep(1000)
    before = cpuSeconds(server.pid)
    await sleep(seconds * 1000)
    const watching = cpuSeconds(server.pid) - before
    events.close()
    return {idle, watching, messages}
  } finally {
    server.kill('SIGTERM')
  }
}

try {
  for (let index = 0; index < AGENTS; index++) cli('new', `agent-${index}`, '--cmd', 'sleep 100000')
  const latencies = await watchLatency(10)
  console.log(`ls --watch: state change shown after median ${median(latencies).toFixed(0)} ms, worst ${Math.max(...latencies).toFixed(0)} ms (goal: under 2000 ms) with ${AGENTS} agents`)
  const seconds = 10
  const cpu = await serverCpu(seconds)
  const percent = (value) => ((value / seconds) * 100).toFixed(2)
  console.log(`serve watching ${AGENTS} agents: ${percent(cpu.watching)}% of one core (nobody watching: ${percent(cpu.idle)}%; goal: under 5%), ${cpu.messages} event messages`)
} finally {
  try {
    execFileSync('tmux', ['-L', socket, 'kill-server'], {stdio: 'ignore'})
  } catch {}
  rmSync(home, {recursive: true, force: true})
}
