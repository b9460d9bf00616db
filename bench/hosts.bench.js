// Remote hosts over ssh (issue 13): `maestro ls` with 2 remote hosts of 25 agents each against a
// local `ls` of 50 agents, runs alternating, medians compared (goal ≤ 1.5×); and how many
// connections sshd accepts for 20 send/capture commands on a remote agent (goal ≤ 2: the
// commands share one warm connection). A real sshd on loopback, one throwaway user per host, as
// in test/cli-hosts.test.ts: needs root.
import {spawnSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'

import {register} from 'tsx/esm/api'

import {place} from './place.js'

const BIN = fileURLToPath(new URL('../bin/run.js', import.meta.url))
const RUNS = Number(process.env.BENCH_RUNS) || 15

register()
const {startSshWorld} = await import('../test/ssh-helpers.ts')

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

function maestro(args, env) {
  const start = performance.now()
  const result = spawnSync(process.execPath, [BIN, ...args], {env, encoding: 'utf8'})
  const elapsed = performance.now() - start
  if (result.status !== 0) throw new Error(`maestro ${args.join(' ')} exited ${result.status}: ${result.stderr}`)
  return elapsed
}

const line = (label, ms, extra = '') => console.log(`${label.padEnd(36)} ${ms.toFixed(0).padStart(5)} ms${extra}`)

const world = await startSshWorld(2)
const local = place('local')
const remote = place('remote', {MAESTRO_SSH_CONFIG: world.config})
try {
  // The library reads its places from the environment, as the CLI does.
  Object.assign(process.env, {MAESTRO_SSH_CONFIG: world.config, MAESTRO_CONFIG_DIR: remote.env.MAESTRO_CONFIG_DIR, MAESTRO_STATE_DIR: remote.env.MAESTRO_STATE_DIR})
  const {Tmux} = await import('../dist/tmux/client.js')
  const {newSession} = await import('../dist/tmux/sessions.js')
  const {addHostChecked, remoteTmux} = await import('../dist/hosts.js')
  const localTmux = new Tmux(local.socket)
  for (let index = 0; index < 50; index++) await newSession(localTmux, {name: `agent-${index}`, dir: local.home, command: 'sleep 1000'})
  const hosts = []
  for (const [index, {alias, home}] of world.hosts.entries()) {
    const host = await addHostChecked({name: `h${index}`, dest: alias})
    const tmux = await remoteTmux(host)
    for (let agent = 0; agent < 25; agent++) await newSession(tmux, {name: `agent-${agent}`, dir: home, command: 'sleep 1000'})
    hosts.push(tmux)
  }

  // One unmeasured run each: it also opens the shared connections, as any earlier command would.
  maestro(['ls'], local.env)
  maestro(['ls'], remote.env)
  const times = [[], []]
  for (let run = 0; run < RUNS; run++) {
    times[0].push(maestro(['ls'], local.env))
    times[1].push(maestro(['ls'], remote.env))
  }
  const [localLs, remoteLs] = times.map(median)
  console.log(`medians of ${RUNS} alternating runs`)
  line('maestro ls (50 local agents)', localLs)
  line('maestro ls (2 hosts × 25 agents)', remoteLs, `   ${(remoteLs / localLs).toFixed(2)}× local (goal ≤ 1.5×)`)

  // From a cold start: the first command opens the connection, the other 19 reuse it.
  for (const tmux of hosts) await tmux.disconnect()
  const before = world.accepted()
  const started = performance.now()
  for (let index = 0; index < 10; index++) {
    maestro(['send', 'h0:agent-0', `echo ${index}`], remote.env)
    maestro(['capture', 'h0:agent-0', '--lines', '5'], remote.env)
  }
  const perCommand = (performance.now() - started) / 20
  console.log(`20 send/capture on h0:agent-0: sshd accepted ${world.accepted() - before} connection(s) (goal ≤ 2); ${perCommand.toFixed(0)} ms a command`)
  for (const tmux of hosts) await tmux.disconnect()
} finally {
  await world.stop()
  local.destroy()
  remote.destroy()
}
