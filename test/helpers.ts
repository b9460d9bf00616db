import {execFile, execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, readdirSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {readContext} from '../src/context.js'

export const ROOT = fileURLToPath(new URL('..', import.meta.url))
/** The bundle's entry, for `node bin/run.js`. */
export const BIN = join(ROOT, 'bin', 'run.js')
/** The command users run (package.json bin): it starts from the startup snapshot. */
export const LAUNCHER = join(ROOT, 'bin', 'maestro')

/**
 * A private world for one test file: its own tmux server and config/state directories.
 * Call `cleanup()` in `after()`; it kills the tmux server even when tests failed.
 */
export function sandbox(label: string) {
  const socket = `maestro-test-${label}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`
  const home = mkdtempSync(join(tmpdir(), `maestro-${label}-`))
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    MAESTRO_TMUX_SOCKET: socket,
    MAESTRO_CONFIG_DIR: join(home, 'config'),
    MAESTRO_STATE_DIR: join(home, 'state'),
    TMUX: '',
    NO_COLOR: '1',
  }
  delete env.TMUX
  // The sandbox's own secrets only: a token or passphrase of the user's must not reach its servers.
  delete env.MAESTRO_TOKEN
  delete env.MAESTRO_PASSPHRASE
  return {
    socket,
    home,
    env,
    /** The context a maestro command would build in the sandbox: what this test process hands maestro's modules. */
    context: readContext(env),
    /** Runs the real CLI as users do (bin/maestro); never throws, so tests can assert exit codes. */
    cli(args: string[], options: {input?: string; env?: NodeJS.ProcessEnv} = {}) {
      return runCli(args, {...env, ...options.env}, options.input)
    },
    /** Runs tmux directly on the private server, for checks that must not trust maestro itself. */
    tmux(args: string[]): string {
      return execFileSync('tmux', ['-L', socket, ...args], {encoding: 'utf8'})
    },
    cleanup() {
      killTmuxServer(socket)
      // Agents that ignore SIGHUP, their recorders and watchers would go on writing into home (ENOTEMPTY).
      killProcessesWithEnv(`MAESTRO_TMUX_SOCKET=${socket}`)
      rmSync(home, {recursive: true, force: true, maxRetries: 10, retryDelay: 200})
    },
  }
}

/** SIGKILLs every process of this machine whose environment holds `entry` (Linux; elsewhere a no-op). */
function killProcessesWithEnv(entry: string): void {
  let pids: string[]
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name))
  } catch {
    return
  }
  for (const pid of pids) {
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(entry)) process.kill(Number(pid), 'SIGKILL')
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
}

/** Ends the tmux server of `-L name`, if one runs, and removes its socket: tmux 3.3 leaves it behind. */
export function killTmuxServer(name: string): void {
  try {
    execFileSync('tmux', ['-L', name, 'kill-server'], {stdio: 'ignore'})
  } catch {
    // no server was started, or it ended with its last session
  }
  rmSync(join(process.env.TMUX_TMPDIR || '/tmp', `tmux-${process.getuid?.()}`, name), {force: true})
}

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

export function runCli(args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(LAUNCHER, args, {env, encoding: 'utf8', timeout: 30_000}, (error, stdout, stderr) => {
      resolve({code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr})
    })
    child.stdin?.end(input ?? '')
  })
}

/** What a truthy result of a check can be. */
export type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>

/** Polls until `check` returns a truthy value, or fails after `timeoutMs`. */
export async function waitFor<T>(check: () => T | Promise<T>, timeoutMs = 5000, what = 'condition'): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs
  let last: T | undefined
  while (Date.now() < deadline) {
    last = await check()
    if (last) return last as Truthy<T>
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(last)})`)
}
