import {execFile, spawn, spawnSync} from 'node:child_process'
import {closeSync, fstatSync, openSync, readSync, unlinkSync} from 'node:fs'
import {join} from 'node:path'

import {MaestroError} from '../shared/errors.js'

export interface TmuxResult {
  stdout: string
  stderr: string
}

/** tmux answers "no server" in several wordings depending on how the socket is missing. */
export function isNoServer(stderr: string): boolean {
  return /no server running|error connecting to|failed to connect to server/i.test(stderr)
}

/** What runs tmux commands and answers as `Tmux.exec` does (a watcher's control client does too). */
export type TmuxExec = Pick<Tmux, 'exec'>

/**
 * A handle on one tmux server. Every tmux process maestro starts goes through here, as an
 * argument array: nothing is ever parsed by a shell.
 */
export class Tmux {
  /**
   * `env` is what the tmux processes started here inherit (Context.env): the tmux server the
   * first command starts, and through it the agents, as well as every tmux client.
   */
  constructor(
    readonly socket: string,
    readonly env: NodeJS.ProcessEnv,
    private readonly options: TmuxOptions = {},
  ) {}

  /** The remote host this server runs on, by its maestro name; null for this machine. */
  get host(): string | null {
    return null
  }

  /** argv (after the tmux binary) that addresses this server. */
  serverArgs(): string[] {
    return ['-L', this.socket]
  }

  /** The file and arguments that attach a terminal to an agent, for a pty or an inherited tty. */
  attachCommand(name: string, options: {readonly?: boolean} = {}): {file: string; args: string[]} {
    const args = [...this.serverArgs(), 'attach-session', '-t', exact(name)]
    // ignore-size: a read-only viewer must not resize the window the agent and other viewers see.
    if (options.readonly) args.push('-f', 'read-only,ignore-size')
    return {file: 'tmux', args}
  }

  /** The file and arguments of a long-lived tmux client (control mode) running `args` on this server. */
  clientCommand(args: string[]): {file: string; args: string[]} {
    return {file: 'tmux', args: [...this.serverArgs(), ...args]}
  }

  /** The environment of a tmux client (attachCommand, clientCommand): outside $TMUX, or tmux refuses to nest when maestro runs inside tmux. */
  clientEnv(): NodeJS.ProcessEnv {
    const env = {...this.env}
    delete env.TMUX
    return env
  }

  /**
   * Runs one tmux command, or several in as few tmux processes as fit when given a list of
   * commands (tmux runs them in order and stops at the first that fails). Resolves with the
   * output; rejects with the raw stderr for callers to classify.
   */
  async exec(command: string[] | string[][], options: {input?: string} = {}): Promise<TmuxResult> {
    const result = {stdout: '', stderr: ''}
    for (const args of calls(commandList(command))) {
      const {stdout, stderr} = await this.call(args, options.input)
      result.stdout += stdout
      result.stderr += stderr
    }
    return result
  }

  /**
   * Starts a command (or a few, in one tmux call) now, for its output to be taken later; resolves
   * with that output, or undefined when tmux failed (the caller then runs it as usual and learns
   * why). The output goes to a file in `dir` that is unlinked before tmux writes to it, not to a
   * pipe: tmux never waits for this process to read, and no stream is set up, which costs a cold
   * process about 5 ms against 1.5. A write that failed (a full disk) does not fail tmux: the
   * caller checks that the output is whole. Undefined at once when no such file can be made.
   */
  early(command: string[] | string[][], dir: string): Promise<string | undefined> | undefined {
    const [args, ...more] = calls(commandList(command))
    if (more.length > 0) return undefined
    let fd: number
    try {
      const path = join(dir, `.early-${process.pid}-${Math.random().toString(36).slice(2)}`)
      fd = openSync(path, 'wx+', 0o600)
      unlinkSync(path)
    } catch {
      return undefined
    }
    return new Promise((resolve) => {
      let closed = false
      // Node may tell 'exit' after 'error' for one failure: the file is read and closed once.
      const done = (status: number | null) => {
        if (closed) return
        closed = true
        try {
          resolve(status === 0 ? readWhole(fd) : undefined)
        } catch {
          resolve(undefined)
        } finally {
          closeSync(fd)
        }
      }
      const child = spawn('tmux', [...this.serverArgs(), ...args], {env: this.env, stdio: ['ignore', fd, 'ignore']})
      child.on('error', () => done(null))
      child.on('exit', done)
    })
  }

  protected call(args: string[], input: string | undefined): Promise<TmuxResult> {
    const argv = [...this.serverArgs(), ...args]
    if (this.options.blocking) {
      const {error, status, signal, stdout, stderr} = spawnSync('tmux', argv, {env: this.env, maxBuffer: MAX_OUTPUT_BYTES, encoding: 'utf8', input})
      if (!error && status === 0) return Promise.resolve({stdout, stderr})
      return Promise.reject(callFailure(args, error, stderr ?? '', signal ? `tmux was ended by ${signal}` : `tmux exited with status ${status}`))
    }
    return new Promise((resolve, reject) => {
      const child = execFile('tmux', argv, {env: this.env, maxBuffer: MAX_OUTPUT_BYTES, encoding: 'utf8'}, (error, stdout, stderr) => {
        if (error) reject(callFailure(args, error, stderr, error.message))
        else resolve({stdout, stderr})
      })
      if (input !== undefined) child.stdin?.end(input)
    })
  }
}

/** Everything written to an open file, from its start whatever the file's position. */
function readWhole(fd: number): string {
  const output = Buffer.alloc(fstatSync(fd).size)
  readSync(fd, output, 0, output.length, 0)
  return output.toString('utf8')
}

export interface TmuxOptions {
  /**
   * Wait for each call without the event loop (spawnSync): no stream objects are set up for
   * tmux's output, a few milliseconds of every start of a short command. Only for a process that
   * has nothing else to do meanwhile.
   */
  blocking?: boolean
}

const MAX_OUTPUT_BYTES = 256 * 1024 * 1024

function callFailure(args: string[], error: Error | undefined, stderr: string, otherwise: string): Error {
  if ((error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return tmuxMissing()
  return new TmuxCommandError(args, stderr.trim() || error?.message || otherwise)
}

/** One command or several, as the list of commands `exec` takes either way. */
export function commandList(command: string[] | string[][]): string[][] {
  return (Array.isArray(command[0]) ? command : [command]) as string[][]
}

/**
 * A tmux client hands its whole argument list to the server in one message of at most 16 KiB
 * and gets "command too long" beyond that: this leaves room for the message header.
 */
export const MAX_CALL_BYTES = 16_000

/**
 * Packs commands, separated by ";", into as few tmux calls as stay under MAX_CALL_BYTES. A single
 * command bigger than that still gets a call of its own, for tmux to refuse.
 */
function calls(commands: string[][]): string[][] {
  const packed: string[][] = []
  let call: string[] = []
  let size = 0
  for (const words of commands) {
    const args = words.map(literal)
    const bytes = args.reduce((sum, arg) => sum + Buffer.byteLength(arg) + 1, 0)
    if (call.length > 0 && size + 2 + bytes > MAX_CALL_BYTES) {
      packed.push(call)
      call = []
      size = 0
    }
    if (call.length > 0) {
      call.push(';')
      size += 2
    }
    call.push(...args)
    size += bytes
  }
  if (call.length > 0) packed.push(call)
  return packed
}

/** A tmux invocation that exited non-zero; `stderr` says why in tmux's words. */
export class TmuxCommandError extends Error {
  constructor(
    readonly args: string[],
    readonly stderr: string,
  ) {
    super(`tmux ${args[0]} failed: ${stderr}`)
  }
}

export function tmuxMissing(): MaestroError {
  return new MaestroError(
    'TMUX_MISSING',
    'tmux is not installed or not on PATH (install it, e.g. "sudo apt-get install tmux" or "brew install tmux")',
  )
}

/**
 * tmux reads any argument that ends in ";" (a bare ";" too) as the end of a command: the ";" is
 * dropped and what follows runs as a new command. A backslash before that ";" keeps it literal,
 * so only the separators `exec` places itself ever split commands.
 */
function literal(arg: string): string {
  return arg.endsWith(';') ? `${arg.slice(0, -1)}\\;` : arg
}

/**
 * Makes a string literal where tmux expands formats (`new-session -c` and `-s`, `rename-session`,
 * `display-message`, `-F`): `#{…}` would be replaced and `#(…)` run as a shell command. `##` is a
 * plain `#`, except that tmux copies a run of `#` followed by `[` (a style) as it stands, so such
 * a run must stay single. Some arguments (`display-message`, `pipe-pane`) also go through
 * strftime first, where `%d` is the day: `strftime` doubles every `%` for those. Every user
 * string bound for such an argument goes through here.
 */
export function formatLiteral(text: string, options: {strftime?: boolean} = {}): string {
  const literal = text.replace(/#+/g, (run, offset: number) => (text[offset + run.length] === '[' ? run : run + run))
  return options.strftime ? literal.replaceAll('%', '%%') : literal
}

/** `=name` matches exactly; a bare name would also match prefixes and patterns. */
export function exact(name: string): string {
  return `=${name}`
}

/** Pane-level commands need the window part too, or tmux answers "can't find pane". */
export function exactPane(name: string): string {
  return `=${name}:`
}

/**
 * Quotes one argument for tmux's own command parser (control-mode input, like a config line),
 * where `#` starts a comment, `;` ends a command and `$`, `~` and quotes are special. Inside
 * single quotes tmux takes everything literally; a quote itself goes outside, escaped. A newline
 * would end the command line, so it is refused.
 */
export function commandQuote(arg: string): string {
  if (/[\r\n]/.test(arg)) throw new Error('a tmux command line cannot carry a line break')
  return `'${arg.replaceAll("'", "'\\''")}'`
}

/** One tmux command as a line tmux parses back into exactly these arguments. */
export function commandLine(args: string[]): string {
  return args.map(commandQuote).join(' ')
}
