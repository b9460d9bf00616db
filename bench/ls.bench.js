// How soon maestro starts, against a bare `node -e 0`: `maestro ls`, `maestro report` and
// `maestro --help` as users run them (bin/maestro, from the startup snapshot), and ls from the
// bundle (`node bin/run.js`) for comparison; then ls with 5 agents against ls with 500.
// Runs alternate so that load on the machine hits both sides alike; medians are compared, of the
// wall time and of the CPU time (user + system) of the child, which load disturbs less.
// Goals (issues 2 and 15), with 50 agents: ls ≤ 1.5× node -e 0, report working ≤ 1.4×,
// --help ≤ 2×; ls with 500 agents ≤ 1.3× ls with 5; ls loads no server, pty, web, ws or listr2 code.
// `node bench/run.js ls --startup` measures the start against node -e 0 only.
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {placeWithAgents} from './place.js'

const BIN = fileURLToPath(new URL('../bin/run.js', import.meta.url))
const LAUNCHER = fileURLToPath(new URL('../bin/maestro', import.meta.url))
const RUNS = Number(process.env.BENCH_RUNS) || 20
const STARTUP_ONLY = process.argv.includes('--startup')

/** Every world made, so that the end of the run removes each one, even after a failure. */
const worlds = []

/** A private tmux server with `count` agents running `sleep 1000`, and its own config dirs. */
async function world(count) {
  const made = await placeWithAgents(`ls-${count}`, count)
  worlds.push(made)
  return made
}

/**
 * Runs a command once under bash, which reports the child's wall time ($EPOCHREALTIME around it)
 * and CPU time (`times`: user and system of its children), in milliseconds.
 */
const TIMED = 's=$EPOCHREALTIME; "$@" >/dev/null 2>&1; c=$?; e=$EPOCHREALTIME; times; echo "$s $e $c"'
function timeRun(command, env) {
  const result = spawnSync('bash', ['-c', TIMED, 'bash', ...command], {env, encoding: 'utf8'})
  const [, children, marks] = result.stdout.trim().split('\n')
  const [start, end, status] = marks.split(' ')
  if (status !== '0') throw new Error(`${command.join(' ')} exited ${status}`)
  const seconds = (text) => {
    const [, minutes, rest] = /(\d+)m([\d.]+)s/.exec(text)
    return Number(minutes) * 60 + Number(rest)
  }
  const [user, system] = children.split(' ').map(seconds)
  return {wall: (Number(end) - Number(start)) * 1000, cpu: (user + system) * 1000}
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/** Alternates the commands RUNS times each, after one unmeasured warm-up of each; returns medians. */
function compare(commands) {
  for (const {command, env} of commands) timeRun(command, env)
  const times = commands.map(() => ({wall: [], cpu: []}))
  for (let run = 0; run < RUNS; run++) {
    commands.forEach(({command, env}, index) => {
      const {wall, cpu} = timeRun(command, env)
      times[index].wall.push(wall)
      times[index].cpu.push(cpu)
    })
  }
  return times.map(({wall, cpu}) => ({wall: median(wall), cpu: median(cpu)}))
}

/**
 * Every file one `maestro ls` loads: CommonJS files as they compile, ES modules as they resolve.
 * Recorded by a preload, outside the timed runs.
 */
function modulesLoadedBy(env) {
  const dir = mkdtempSync(join(tmpdir(), 'maestro-bench-modules-'))
  const log = join(dir, 'loaded.txt')
  const hooks = `import {appendFileSync} from 'node:fs'
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context)
  appendFileSync(${JSON.stringify(log)}, result.url + '\\n')
  return result
}`
  const preload = join(dir, 'preload.mjs')
  writeFileSync(preload, `import {appendFileSync} from 'node:fs'
import Module, {register} from 'node:module'
const compile = Module.prototype._compile
Module.prototype._compile = function (content, filename) {
  appendFileSync(${JSON.stringify(log)}, filename + '\\n')
  return compile.call(this, content, filename)
}
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hooks)}))
`)
  try {
    const result = spawnSync(process.execPath, ['--import', preload, BIN, 'ls'], {env, encoding: 'utf8'})
    if (result.status !== 0) throw new Error(`ls exited ${result.status}: ${result.stderr}`)
    return [...new Set(readFileSync(log, 'utf8').split('\n').filter((entry) => entry && !entry.startsWith('node:')))]
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

function line(label, time, base, goal) {
  const ratio = (key) => (base ? ` ${(time[key] / base[key]).toFixed(2)}×` : '')
  const wall = `${time.wall.toFixed(0).padStart(5)} ms${ratio('wall')}`
  const cpu = `${time.cpu.toFixed(0).padStart(5)} ms${ratio('cpu')}`
  console.log(`${label.padEnd(30)} wall ${wall.padEnd(16)} cpu ${cpu.padEnd(16)} ${goal ?? ''}`)
}

try {
  const fifty = await world(50)
  const node = {command: [process.execPath, '-e', '0'], env: fifty.env}
  const maestro = (...args) => ({command: [LAUNCHER, ...args], env: fifty.env})
  const [bare, ls, report, help, bundled] = compare([
    node,
    maestro('ls'),
    maestro('report', 'working', '--agent', 'agent-000'),
    maestro('--help'),
    {command: [process.execPath, BIN, 'ls'], env: fifty.env},
  ])
  console.log(`medians of ${RUNS} alternating runs; ratios against node -e 0`)
  line('node -e 0', bare)
  line('maestro ls (50 agents)', ls, bare, 'goal ≤ 1.5×')
  line('maestro report working', report, bare, 'goal ≤ 1.4×')
  line('maestro --help', help, bare, 'goal ≤ 2×')
  line('node bin/run.js ls (bundle)', bundled, bare, 'without the snapshot')

  if (fifty.env.NODE_EXTRA_CA_CERTS !== undefined) {
    // Node parses those certificates at every start and maestro skips them (bin/maestro), which
    // flatters the ratios above: here both sides start without them, leaving maestro's own work.
    const lean = {...fifty.env}
    delete lean.NODE_EXTRA_CA_CERTS
    const [leanBare, leanLs, leanReport, leanHelp] = compare([
      {command: [process.execPath, '-e', '0'], env: lean},
      {command: [LAUNCHER, 'ls'], env: lean},
      {command: [LAUNCHER, 'report', 'working', '--agent', 'agent-000'], env: lean},
      {command: [LAUNCHER, '--help'], env: lean},
    ])
    console.log('the same without NODE_EXTRA_CA_CERTS (set here), on both sides:')
    line('node -e 0', leanBare)
    line('maestro ls (50 agents)', leanLs, leanBare)
    line('maestro report working', leanReport, leanBare)
    line('maestro --help', leanHelp, leanBare)
  }

  if (!STARTUP_ONLY) {
    const few = await world(5)
    const many = await world(500)
    const [lsFew, lsMany] = compare([
      {command: [LAUNCHER, 'ls'], env: few.env},
      {command: [LAUNCHER, 'ls'], env: many.env},
    ])
    line('maestro ls (5 agents)', lsFew)
    line('maestro ls (500 agents)', lsMany, lsFew, 'against ls of 5; goal ≤ 1.3×')

    const loaded = modulesLoadedBy(few.env)
    const unwanted = loaded.filter((file) => /\/dist\/(server|web)\/|node_modules\/(node-pty|listr2|ws|open)\//.test(file))
    console.log(`maestro ls (bundle) loaded ${loaded.length} files; server, pty, web, ws, open or listr2 among them: ${unwanted.length ? unwanted.join(', ') : 'none'}`)
  }
} finally {
  for (const each of worlds) each.destroy()
}
