// `maestro ls` start-up against a bare `node -e 0`, and ls with 5 agents against ls with 500.
// Runs alternate so that load on the machine hits both sides alike; medians are compared.
// Goals (issue 2): ls ≤ 1.5× node -e 0 with 50 agents; ls with 500 agents ≤ 1.3× ls with 5;
// and ls loads no server, pty, web, ws or listr2 code.
import {execFileSync, spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {Tmux} from '../dist/tmux/client.js'
import {newSession} from '../dist/tmux/sessions.js'

const BIN = fileURLToPath(new URL('../bin/run.js', import.meta.url))
const RUNS = Number(process.env.BENCH_RUNS) || 20

/** Every world made, so that the end of the run removes each one, even after a failure. */
const worlds = []

/** A private tmux server with `count` agents running `sleep 1000`, and its own config dirs. */
async function world(count) {
  const socket = `maestro-bench-${process.pid}-${count}`
  const home = mkdtempSync(join(tmpdir(), 'maestro-bench-'))
  const env = {...process.env, MAESTRO_TMUX_SOCKET: socket, MAESTRO_CONFIG_DIR: join(home, 'config'), MAESTRO_STATE_DIR: join(home, 'state')}
  delete env.TMUX
  const made = {
    env,
    destroy() {
      try {
        execFileSync('tmux', ['-L', socket, 'kill-server'], {stdio: 'ignore'})
      } catch {
        // the server never started
      }
      // tmux 3.3 leaves the socket file behind.
      rmSync(join(process.env.TMUX_TMPDIR || '/tmp', `tmux-${process.getuid()}`, socket), {force: true})
      rmSync(home, {recursive: true, force: true})
    },
  }
  worlds.push(made)
  const tmux = new Tmux(socket)
  for (let index = 0; index < count; index++) {
    await newSession(tmux, {name: `agent-${String(index).padStart(3, '0')}`, dir: home, command: 'sleep 1000'})
  }
  return made
}

function timeRun(args, env) {
  const start = performance.now()
  const result = spawnSync(process.execPath, args, {env, encoding: 'utf8'})
  const elapsed = performance.now() - start
  if (result.status !== 0) throw new Error(`node ${args.join(' ')} exited ${result.status}: ${result.stderr}`)
  return elapsed
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/** Alternates the commands RUNS times each, after one unmeasured warm-up of each; returns medians. */
function compare(commands) {
  for (const {args, env} of commands) timeRun(args, env)
  const times = commands.map(() => [])
  for (let run = 0; run < RUNS; run++) commands.forEach(({args, env}, index) => times[index].push(timeRun(args, env)))
  return times.map(median)
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

const line = (label, ms, extra = '') => console.log(`${label.padEnd(28)} ${ms.toFixed(0).padStart(5)} ms${extra}`)

try {
  const fifty = await world(50)
  const [bare, ls] = compare([
    {args: ['-e', '0'], env: fifty.env},
    {args: [BIN, 'ls'], env: fifty.env},
  ])
  console.log(`medians of ${RUNS} alternating runs`)
  line('node -e 0', bare)
  line('maestro ls (50 agents)', ls, `   ${(ls / bare).toFixed(2)}× node -e 0 (goal ≤ 1.5×)`)

  const few = await world(5)
  const many = await world(500)
  const [lsFew, lsMany] = compare([
    {args: [BIN, 'ls'], env: few.env},
    {args: [BIN, 'ls'], env: many.env},
  ])
  line('maestro ls (5 agents)', lsFew)
  line('maestro ls (500 agents)', lsMany, `   ${(lsMany / lsFew).toFixed(2)}× ls with 5 (goal ≤ 1.3×)`)

  const loaded = modulesLoadedBy(few.env)
  const unwanted = loaded.filter((file) => /\/dist\/(server|web)\/|node_modules\/(node-pty|listr2|ws|open)\//.test(file))
  console.log(`maestro ls loaded ${loaded.length} files; server, pty, web, ws, open or listr2 among them: ${unwanted.length ? unwanted.join(', ') : 'none'}`)
} finally {
  for (const each of worlds) each.destroy()
}
