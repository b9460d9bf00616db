import {type ChildProcessWithoutNullStreams, spawn} from 'node:child_process'
import {randomUUID} from 'node:crypto'

import {type Tmux, TmuxCommandError, type TmuxResult, commandLine, commandList, exact} from './client.js'
import {SEAT_SESSION, SNAPSHOT_FORMAT, type SessionInfo, WINDOW_SIZES_FORMAT, parseSnapshot, parseWindowSizes} from './sessions.js'

export interface ControlHandlers {
  /** Every session as tmux sees it now; tmux checks for changes once a second. */
  snapshot(sessions: SessionInfo[]): void
  /** Sessions appeared, vanished or were renamed, or a report woke the watchers: list them now. */
  changed(): void
  /** The windows of these sessions changed size, or are new to this client (tmux tells within a second). */
  resized?(names: string[]): void
  /** The connection ended (tmux server gone, or `close`). */
  closed(): void
}

/**
 * Notifications after which the list of agents is read at once. `%window-renamed` is the seat's
 * window, renamed by a report to wake the watchers; agents' windows are renamed by tmux itself
 * whenever their program runs another (`%unlinked-window-renamed`, twice a second for a shell loop
 * that sleeps), and an agent's name is its session's, so those are not listened to.
 */
const CHANGES = /^%(sessions-changed|session-renamed|window-renamed|unlinked-window-(add|close)|window-close|pane-mode-changed)\b/

/** Commands run through the control client, and where their replies begin and end (see `exec`). */
interface Reading {
  commands: string[][]
  /** Printed before the first command, after each one, and on a line of its own at the end. */
  marks: string[]
  /** Every line from the first mark to the last, once the first mark has come. */
  lines: string[] | undefined
  done(result: TmuxResult | Error | undefined): void
}

/**
 * One tmux control-mode client (`tmux -C`) on maestro's server: tmux tells it when sessions come,
 * go or are renamed, and sends a fresh snapshot of every session whenever one changes (output,
 * exit, a report), so that watchers never poll. A control client hears about other sessions
 * only when attached to one: every watcher sits in SEAT_SESSION, which listings leave out, made
 * by the first and ended by the last (CONTROL_CLIENT_CRASH says why it is shared). Not
 * destroy-unattached: tmux 3.3 can crash when such a session goes while its client is being
 * killed (tmux/tmux#5497).
 */
export class ControlClient {
  readonly #child: ChildProcessWithoutNullStreams
  readonly closed: Promise<void>
  /**
   * Resolves once tmux has attached this client to the seat. Commands written to a control
   * client's input before then can run before its own `new-session`, while it is not yet a
   * control client, and fail ("not a control client"): seen with tmux 3.3a about one time in three.
   */
  readonly #attached: Promise<void>
  #seated = false
  /** The tmux client has exited (with a code or a signal): nothing written to it is answered. */
  #gone = false
  /** Readings written to tmux and not yet answered, in the order tmux answers them. */
  readonly #readings: Reading[] = []
  #changed = (): void => undefined

  constructor(
    private readonly tmux: Tmux,
    handlers: ControlHandlers,
  ) {
    let markAttached = (): void => undefined
    this.#attached = new Promise((resolve) => {
      markAttached = resolve
    })
    // `cat` waits on its terminal forever and prints nothing: the session is only a seat.
    const {file, args} = tmux.clientCommand(['-C', 'new-session', '-A', '-s', SEAT_SESSION, 'cat'])
    this.#child = spawn(file, args, {stdio: 'pipe', env: tmux.clientEnv()})
    this.#child.on('error', () => undefined)
    this.#child.stdin.on('error', () => undefined)
    this.closed = new Promise((resolve) => this.#child.on('close', () => resolve()))
    void this.closed.then(() => handlers.closed())
    this.#send(['refresh-client', '-f', 'no-output'])
    this.#send(['refresh-client', '-B', `maestro::${SNAPSHOT_FORMAT}`])
    this.#send(['refresh-client', '-B', `maestro-sizes::${WINDOW_SIZES_FORMAT}`])
    let sizes = new Map<string, string>()
    let block = false
    this.#child.stdout.setEncoding('utf8')
    let partial = ''
    // Lines end at "\n" only: a "\r" inside a pane title or a screen is text.
    this.#child.stdout.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n')
      partial = lines.pop()!
      for (const line of lines) onLine(line)
    })
    const onLine = (line: string): void => {
      if (this.#readLine(line)) {
        block = false
        return
      }
      // Command replies sit between %begin and %end (or %error); notifications never do.
      if (block) {
        block = !/^%(end|error) /.test(line)
        return
      }
      if (line.startsWith('%begin ')) block = true
      else if (line.startsWith('%session-changed ') && line.endsWith(` ${SEAT_SESSION}`)) {
        this.#seated = true
        markAttached()
      }
      else if (line.startsWith('%subscription-changed maestro ')) {
        const sessions = parseSnapshot(line.slice(line.indexOf(' : ') + 3))
        if (sessions) handlers.snapshot(sessions)
        else handlers.changed()
      } else if (line.startsWith('%subscription-changed maestro-sizes ')) {
        // A session first heard of counts as resized: it may have been, before the subscription's first report.
        const now = parseWindowSizes(line.slice(line.indexOf(' : ') + 3))
        const resized = [...now].filter(([name, size]) => sizes.get(name) !== size).map(([name]) => name)
        sizes = now
        if (resized.length > 0) handlers.resized?.(resized)
      } else if (CHANGES.test(line)) handlers.changed()
    }
    this.#changed = () => handlers.changed()
    void this.closed.then(() => {
      this.#gone = true
      for (const reading of this.#readings.splice(0)) reading.done(undefined)
    })
  }

  /**
   * Runs tmux commands through this client, answering as `Tmux.exec` does, so that a watcher
   * reads the list and the screens without starting a tmux process each time (which costs serve
   * more than the reading itself). Replies come between `%begin` and `%end` lines that a screen
   * could imitate, so each command's reply is found by position, between random marks that tmux
   * prints around it and no agent can know. Whenever the replies are not shaped as expected, or the
   * client is gone, the commands run as a tmux process instead.
   */
  async exec(command: string[] | string[][], options: {input?: string} = {}): Promise<TmuxResult> {
    const commands = commandList(command)
    if (options.input !== undefined || this.#gone) return this.tmux.exec(command, options)
    const marks = Array.from({length: commands.length + 2}, () => `maestro-${randomUUID()}`)
    const result = await new Promise<TmuxResult | Error | undefined>((done) => {
      this.#readings.push({commands, marks, lines: undefined, done})
      const mark = (index: number) => ['display-message', '-p', marks[index]]
      // The last mark has a line of its own: tmux stops a line's commands at the first that fails.
      this.#sendList([mark(0), ...commands.flatMap((args, index) => [args, mark(index + 1)])])
      this.#sendList([mark(commands.length + 1)])
    })
    if (result instanceof Error) throw result
    return result ?? this.tmux.exec(command, options)
  }

  /** Takes a line that belongs to the reading under way; false for any other line. */
  #readLine(line: string): boolean {
    const [reading] = this.#readings
    if (!reading) return false
    if (!reading.lines) {
      // The last mark alone: tmux refused the commands' whole line.
      if (line !== reading.marks[0] && line !== reading.marks.at(-1)) return false
      reading.lines = []
    }
    reading.lines.push(line)
    // The last mark's own %end closes the reading.
    if (reading.lines.at(-2) !== reading.marks.at(-1)) return true
    this.#readings.shift()
    const result = repliesOf(reading)
    // Something else came between the replies (a notification, or an old tmux's layout): run the
    // commands again as a process, and list again in case that something was news.
    if (!result) this.#changed()
    reading.done(result)
    return true
  }

  #sendList(commands: string[][]): void {
    void this.#attached.then(() => {
      if (this.#child.stdin.writable) this.#child.stdin.write(`${commands.map(commandLine).join(' ; ')}\n`)
    })
  }

  #send(args: string[]): void {
    this.#sendList([args])
  }

  /**
   * Leaves the seat and resolves once the tmux client has exited; then ends the seat if no client
   * at all sits there. Asked only after leaving: tmux counts a leaving client as attached until
   * it is gone, so two watchers leaving at once could otherwise both leave the seat behind.
   * "No client at all" is `session_attached_list`, not `session_attached`: the count leaves out a
   * client tmux has told to exit, such as a watcher whose ssh connection dropped, which can linger
   * with its subscriptions; ending the seat under it took its session away, and tmux before 3.7
   * then ended its whole server at its next subscription check (tmux/tmux#4916; seen with a debug
   * tmux in a core dump of the remote-host tests).
   */
  async close(): Promise<void> {
    // tmux before 3.7 checks a leaving client's subscriptions once more after taking its session
    // away, and ends its whole server on the missing session (tmux/tmux#4916): drop them first.
    // A client not seated yet has none (they are sent once it is), and leaves at once.
    if (this.#seated) {
      this.#send(['refresh-client', '-B', 'maestro'])
      this.#send(['refresh-client', '-B', 'maestro-sizes'])
      void this.#attached.then(() => this.#child.stdin.end())
    } else this.#child.stdin.end()
    await this.closed
    const seat = exact(SEAT_SESSION)
    await this.tmux.exec(['if-shell', '-F', '-t', `${seat}:`, '#{==:#{session_attached_list},}', commandLine(['kill-session', '-t', seat])]).catch(() => undefined)
  }
}

/**
 * The replies of a reading: its lines run from the first mark to the last, and each mark is
 * printed as `%begin`, mark, `%end`, so the reply of command i is what lies between the `%begin`
 * after mark i and the `%end` before mark i+1, whatever it says. A command that failed has no mark
 * after it: its reply ends with `%error` before the last mark, and tmux ran none after it.
 * Undefined when the lines are not shaped so.
 */
function repliesOf({commands, marks, lines = []}: Reading): TmuxResult | Error | undefined {
  const last = lines.length - 2
  if (lines[0] !== marks[0] || lines[last] !== marks.at(-1)) return undefined
  // A mark at `at`, then a command's %begin; a command's end (`how`), then a mark's %begin.
  const opens = (at: number) => lines[at + 1]?.startsWith('%end ') && lines[at + 2]?.startsWith('%begin ')
  const closes = (at: number, how: string) => lines[at - 2]?.startsWith(how) && lines[at - 1]?.startsWith('%begin ')
  let from = 0
  let stdout = ''
  for (let index = 0; index < commands.length; index++) {
    if (!opens(from)) return undefined
    const to = lines.indexOf(marks[index + 1], from + 1)
    if (to === -1) return closes(last, '%error ') ? new TmuxCommandError(commands[index], lines.slice(from + 3, last - 2).join('\n')) : undefined
    if (!closes(to, '%end ')) return undefined
    const reply = lines.slice(from + 3, to - 2)
    if (reply.length > 0) stdout += `${reply.join('\n')}\n`
    from = to
  }
  return closes(last, '%end ') && from + 1 === last - 2 ? {stdout, stderr: ''} : undefined
}
