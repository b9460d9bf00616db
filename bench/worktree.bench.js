// What `maestro new --worktree` adds over a plain `maestro new`, on a repository of 5,000 files
// (issue 12); and, for scale, what `maestro diff` and the kill of a clean worktree agent cost
// there. Plain and worktree runs alternate so that load on the machine hits both alike.
import {execFileSync, spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

const BIN = fileURLToPath(new URL('../bin/run.js', import.meta.url))
const RUNS = Number(process.env.BENCH_RUNS) || 10
const FILES = 5000

const home = mkdtempSync(join(tmpdir(), 'maestro-bench-worktree-'))
const socket = `maestro-bench-worktree-${process.pid}`
const env = {...process.env, MAESTRO_TMUX_SOCKET: socket, MAESTRO_CONFIG_DIR: join(home, 'config'), MAESTRO_STATE_DIR: join(home, 'state')}
delete env.TMUX
const repo = join(home, 'repo')

function git(...args) {
  execFileSync('git', ['-C', repo, ...args], {env: {...env, GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@b', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@b'}})
}

function maestro(...args) {
  const start = performance.now()
  const result = spawnSync(process.execPath, [BIN, ...args], {env, encoding: 'utf8'})
  const elapsed = performance.now() - start
  if (result.status !== 0) throw new Error(`maestro ${args.join(' ')} exited ${result.status}: ${result.stderr}`)
  return elapsed
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

try {
  mkdirSync(repo)
  git('init', '-q')
  // 100 folders of 50 files of about 1 KB: the shape of a mid-sized project.
  for (let folder = 0; folder < FILES / 50; folder++) {
    mkdirSync(join(repo, `pkg${folder}`))
    for (let file = 0; file < 50; file++) writeFileSync(join(repo, `pkg${folder}`, `file${file}.ts`), `export const value${file} = ${'x'.repeat(1000).length}\n`.repeat(20))
  }
  git('add', '-A')
  git('commit', '-qm', 'five thousand files')

  const plain = []
  const worktree = []
  const diff = []
  const kill = []
  for (let run = 0; run < RUNS; run++) {
    plain.push(maestro('new', `plain-${run}`, '--dir', repo, '--cmd', 'sleep 1000'))
    worktree.push(maestro('new', `tree-${run}`, '--dir', repo, '--worktree', '--cmd', 'sleep 1000'))
    diff.push(maestro('diff', `tree-${run}`, '--stat'))
    maestro('kill', `plain-${run}`)
    kill.push(maestro('kill', `tree-${run}`))
  }
  const [p, w] = [median(plain), median(worktree)]
  console.log(`repository of ${FILES} files, ${RUNS} runs each, medians:`)
  console.log(`  new              ${p.toFixed(0)} ms`)
  console.log(`  new --worktree   ${w.toFixed(0)} ms   (+${(w - p).toFixed(0)} ms, ${(w / p).toFixed(2)}× plain new)`)
  console.log(`  diff --stat      ${median(diff).toFixed(0)} ms   (a fresh worktree: the whole tree is checked)`)
  console.log(`  kill (clean worktree removed with its branch)  ${median(kill).toFixed(0)} ms`)
} finally {
  try {
    execFileSync('tmux', ['-L', socket, 'kill-server'], {stdio: 'ignore'})
  } catch {
    // no server left
  }
  rmSync(join(process.env.TMUX_TMPDIR || '/tmp', `tmux-${process.getuid()}`, socket), {force: true})
  rmSync(home, {recursive: true, force: true})
}
