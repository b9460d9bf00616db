// Remote hosts over ssh (issue 13): `maestro ls` with 2 remote hosts of 25 agents each against a
// local `ls` of 50 agents, runs alternating, medians compared (goal ≤ 1.5×); how many
// connections sshd accepts for 20 send/capture commands on a remote agent from a cold start
// (goal ≤ 2: the first command opens the shared connection, the others reuse it), with the cold
// first command timed against the warm ones; and how soon a watcher (serve, ls --watch, wait)
// hears of a new remote agent through its tmux -C client, against what one poll of the host
// costs. A real sshd on loopback, one throwaway user per host, as in test/cli-hosts.test.ts:
// needs root.
import {execFile} from 'node:child_process'
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

/** Runs maestro and resolves with its time. Not spawnSync: sshd's log must keep being read meanwhile. */
function maestro(args, env) {
  const start = performance.now()
  return new Promise((resolve, reject) =>
    execFile(process.execPath, [BIN, ...args], {env, encoding: 'utf8'}, (error, _stdout, stderr) =>
      error ? reject(new Error(`maestro ${args.join(' ')} failed: ${stderr}`)) : resolve(performance.now() - start),
    ),
  )
}

/** Resolves once sshd has logged `count` accepted connections, or after `ms` (a smaller count is then the answer). */
async function settled(count, ms = 3000) {
  const until = performance.now() + ms
  while (world.accepted() < count && performance.now() < until) await new Promise((resolve) => setImmediate(resolve))
  return world.accepted()
}

const line = (label, ms, extra = '') => console.log(`${label.padEnd(36)} ${ms.toFixed(0).padStart(5)} ms${extra}`)

const world = await startSshWorld(2)
const local = place('local')
const remote = place('remote', {MAESTRO_SSH_CONFIG: world.config})
try {
  // The context the CLI would build from remote.env, handed to the library as a command hands its own.
  const {readContext} = await import('../dist/context.js')
  const context = readContext({...process.env, MAESTRO_SSH_CONFIG: world.config, MAESTRO_CONFIG_DIR: remote.env.MAESTRO_CONFIG_DIR, MAESTRO_STATE_DIR: remote.env.MAESTRO_STATE_DIR})
  const {Tmux} = await import('../dist/tmux/client.js')
  const {newSession} = await import('../dist/tmux/sessions.js')
  const {addHostChecked, remoteTmux} = await import('../dist/hosts.js')
  const localTmux = new Tmux(local.socket, local.env)
  for (let index = 0; index < 50; index++) await newSession(localTmux, {name: `agent-${index}`, dir: local.home, command: 'sleep 1000'})
  const hosts = []
  for (const [index, {alias, home}] of world.hosts.entries()) {
    const host = await addHostChecked(context, {name: `h${index}`, dest: alias})
    const tmux = await remoteTmux(host, context)
    for (let agent = 0; agent < 25; agent++) await newSession(tmux, {name: `agent-${agent}`, dir: home, command: 'sleep 1000'})
    hosts.push(tmux)
  }

  // One unmeasured run each: it also opens the shared connections, as any earlier command would.
  await maestro(['ls'], local.env)
  await maestro(['ls'], remote.env)
  const times = [[], []]
  for (let run = 0; run < RUNS; run++) {
    times[0].push(await maestro(['ls'], local.env))
    times[1].push(await maestro(['ls'], remote.env))
  }
  const [localLs, remoteLs] = times.map(median)
  console.log(`medians of ${RUNS} alternating runs`)
  line('maestro ls (50 local agents)', localLs)
  line('maestro ls (2 hosts × 25 agents)', remoteLs, `   ${(remoteLs / localLs).toFixed(2)}× local (goal ≤ 1.5×)`)

  // From a cold start: the first command opens the connection, the other 19 reuse it.
  for (const tmux of hosts) await tmux.disconnect()
  const before = await settled(Number.POSITIVE_INFINITY, 1000)
  const commands = []
  for (let index = 0; index < 10; index++) {
    commands.push(await maestro(['send', 'h0:agent-0', `echo ${index}`], remote.env))
    commands.push(await maestro(['capture', 'h0:agent-0', '--lines', '5'], remote.env))
  }
  const accepted = (await settled(before + 1)) - before
  console.log(`20 send/capture on h0:agent-0 from a cold start: sshd accepted ${accepted} connection(s) (goal ≤ 2)`)
  const warm = median(commands.slice(2).filter((_, index) => index % 2 === 0))
  line('first send, cold (opens the connection)', commands[0], `   ${(commands[0] / warm).toFixed(2)}× a warm send`)
  line('send, warm (median of the other 9)', warm)

  // Event or poll: what a watcher pays to hear of a change on a host.
  const {FleetWatcher} = await import('../dist/fleet.js')
  const {listSessions} = await import('../dist/tmux/sessions.js')
  const polls = []
  for (let run = 0; run < RUNS; run++) {
    const start = performance.now()
    await listSessions(hosts[0])
    polls.push(performance.now() - start)
  }
  line('one poll of a host (list, warm)', median(polls))
  const watcher = await FleetWatcher.open(localTmux, context, {hosts: ['h0']})
  const heard = []
  let waiting
  watcher.subscribe((agents) => waiting?.(agents))
  const seen = (name) => new Promise((resolve) => (waiting = (agents) => agents.some((agent) => agent.id === `h0:${name}`) && resolve()))
  await seen('agent-0')
  for (let run = 0; run < Math.min(RUNS, 5); run++) {
    const name = `watched-${run}`
    const heardIt = seen(name)
    // Made by another process, as a user's `maestro new` would be: the watcher is told by tmux.
    await maestro(['new', `h0:${name}`, '--cmd', 'sleep 1000'], remote.env)
    const made = performance.now()
    await heardIt
    heard.push(performance.now() - made)
  }
  await watcher.stop()
  line('watcher hears a new agent (after new)', median(heard), '   through tmux -C: no poll')
  for (const tmux of hosts) await tmux.disconnect()
} finally {
  await world.stop()
  local.destroy()
  remote.destroy()
}
