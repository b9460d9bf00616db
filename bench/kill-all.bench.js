// `maestro kill-all --yes` on 50 agents against 200 (issue 8): the time per agent should stay
// about the same (linear), where it grew with the number of agents (quadratic) when every kill
// listed every agent again. Each run gets fresh worlds of agents running `sleep 1000`, and the
// two sizes alternate so that load on the machine hits both alike.
import {spawnSync} from 'node:child_process'
import {existsSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {placeWithAgents} from './place.js'

const LAUNCHER = fileURLToPath(new URL('../bin/maestro', import.meta.url))
const RUNS = Number(process.env.BENCH_RUNS) || 3
const SMALL = 50
const LARGE = 200

/** Times one kill-all of a fresh world, and checks that it archived every agent. */
async function killAll(count) {
  const made = await placeWithAgents(`kill-${count}`, count)
  try {
    const start = performance.now()
    const result = spawnSync(LAUNCHER, ['kill-all', '--yes', '--json'], {env: made.env, encoding: 'utf8'})
    const elapsed = performance.now() - start
    if (result.status !== 0) throw new Error(`kill-all of ${count} agents exited ${result.status}: ${result.stderr}`)
    const archive = join(made.home, 'state', 'archive')
    const archived = existsSync(archive) ? readdirSync(archive).length : 0
    if (archived !== count) throw new Error(`kill-all of ${count} agents archived ${archived}`)
    return elapsed
  } finally {
    made.destroy()
  }
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

const small = []
const large = []
for (let run = 0; run < RUNS; run++) {
  small.push(await killAll(SMALL))
  large.push(await killAll(LARGE))
}
const [s, l] = [median(small), median(large)]
const perAgent = l / LARGE / (s / SMALL)
console.log(`medians of ${RUNS} alternating runs, each on fresh agents running sleep 1000`)
console.log(`kill-all, ${SMALL} agents`.padEnd(30), `${s.toFixed(0).padStart(6)} ms  ${(s / SMALL).toFixed(1)} ms per agent`)
console.log(`kill-all, ${LARGE} agents`.padEnd(30), `${l.toFixed(0).padStart(6)} ms  ${(l / LARGE).toFixed(1)} ms per agent`)
console.log(`per-agent time, ${LARGE} against ${SMALL}`.padEnd(30), `${perAgent.toFixed(2)}×  goal ≤ 1.5× (linear; quadratic would be ${(LARGE / SMALL).toFixed(0)}×)`)
