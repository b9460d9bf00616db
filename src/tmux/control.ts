import {type ChildProcessWithoutNullStreams, spawn} from 'node:child_process'
import {createInterface} from 'node:readline'

import {type Tmux, commandLine, exact} from './client.js'
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
  #markAttached = (): void => undefined

  constructor(
    private readonly tmux: Tmux,
    handlers: ControlHandlers,
  ) {
    this.#attached = new Promise((resolve) => {
      this.#markAttached = resolve
    })
    // `cat` waits on its terminal forever and prints nothing: the session is only a seat.
    const {file, args} = tmux.clientCommand(['-C', 'new-session', '-A', '-s', SEAT_SESSION, 'cat'])
    this.#child = spawn(file, args, {stdio: 'pipe', env: withoutTmux()})
    this.#child.on('error', () => undefined)
    this.#child.stdin.on('error', () => undefined)
    this.closed = new Promise((resolve) => this.#child.on('close', () => resolve()))
    void this.closed.then(() => handlers.closed())
    this.#send(['refresh-client', '-f', 'no-output'])
    this.#send(['refresh-client', '-B', `maestro::${SNAPSHOT_FORMAT}`])
    this.#send(['refresh-client', '-B', `maestro-sizes::${WINDOW_SIZES_FORMAT}`])
    let sizes = new Map<string, string>()
    let block = false
    createInterface({input: this.#child.stdout}).on('line', (line) => {
      // Command replies sit between %begin and %end (or %error); notifications never do.
      if (block) {
        block = !/^%(end|error) /.test(line)
        return
      }
      if (line.startsWith('%begin ')) block = true
      else if (line.startsWith('%session-changed ') && line.endsWith(` ${SEAT_SESSION}`)) this.#markAttached()
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
    })
  }

  #send(args: string[]): void {
    void this.#attached.then(() => {
      if (this.#child.stdin.writable) this.#child.stdin.write(`${commandLine(args)}\n`)
    })
  }

  /**
   * Leaves the seat and resolves once the tmux client has exited; then ends the seat if no other
   * watcher sits there. Asked only after leaving: tmux counts a leaving client as attached until
   * it is gone, so two watchers leaving at once could otherwise both leave the seat behind.
   */
  async close(): Promise<void> {
    this.#child.stdin.end()
    await this.closed
    const seat = exact(SEAT_SESSION)
    await this.tmux.exec(['if-shell', '-F', '-t', `${seat}:`, '#{==:#{session_attached},0}', commandLine(['kill-session', '-t', seat])]).catch(() => undefined)
  }
}

/** Outside $TMUX, or tmux refuses to nest when maestro itself runs inside tmux. */
function withoutTmux(): NodeJS.ProcessEnv {
  const env = {...process.env}
  delete env.TMUX
  return env
}
