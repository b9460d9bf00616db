import {type ChildProcessWithoutNullStreams, spawn} from 'node:child_process'
import {createInterface} from 'node:readline'

import {type Tmux, commandQuote, exact} from './client.js'
import {OWN_SESSION_PREFIX, SNAPSHOT_FORMAT, type SessionInfo, WINDOW_SIZES_FORMAT, parseSnapshot, parseWindowSizes} from './sessions.js'
import {pidExists} from '../shared/pids.js'

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

const WATCH_PREFIX = `${OWN_SESSION_PREFIX}watch-`

/**
 * Ends the sessions of watchers whose process is gone (killed before they could end them). On a
 * remote host the process ids are other machines': there a watcher's session that no client holds
 * any more is stale (its ssh connection dropped, and tmux -C with it).
 */
export async function reapWatchSessions(tmux: Tmux): Promise<void> {
  const {stdout} = await tmux.exec(['list-sessions', '-F', '#{session_name} #{session_attached}']).catch(() => ({stdout: ''}))
  const stale = stdout.split('\n').flatMap((line) => {
    const [name, attached] = line.split(' ')
    const pid = Number(/^_maestro-watch-(\d+)-/.exec(name)?.[1])
    if (!(pid > 0)) return []
    return (tmux.host ? attached === '0' : !pidExists(pid)) ? [name] : []
  })
  if (stale.length > 0) await tmux.exec(stale.map((name) => ['kill-session', '-t', exact(name)])).catch(() => undefined)
}

/** Notifications after which the list of agents is read at once. */
const CHANGES = /^%(sessions-changed|session-renamed|window-renamed|unlinked-window-(add|close|renamed)|window-close|pane-mode-changed)\b/

/**
 * One tmux control-mode client (`tmux -C`) on maestro's server: tmux tells it when sessions come,
 * go or are renamed, and sends a fresh snapshot of every session whenever one changes (output,
 * exit, a report), so that watchers never poll. A control client hears about other sessions
 * only when attached to one, so it makes a session of its own, which listings leave out
 * (OWN_SESSION_PREFIX). `close` ends it; one left by a killed process is ended by the next
 * watcher (`reapWatchSessions`). Not destroy-unattached: tmux 3.3 can crash when such a session
 * goes while its client is being killed (tmux/tmux#5497).
 */
export class ControlClient {
  readonly #child: ChildProcessWithoutNullStreams
  readonly #session = `${WATCH_PREFIX}${process.pid}-${Math.random().toString(36).slice(2, 8)}`
  readonly closed: Promise<void>
  /**
   * Resolves once tmux has attached this client to its session. Commands written to a control
   * client's input before then can run before its own `new-session`, while it is not yet a
   * control client, and fail ("not a control client"): seen with tmux 3.3a about one time in three.
   */
  readonly #attached: Promise<void>
  #markAttached = (): void => undefined

  constructor(tmux: Tmux, handlers: ControlHandlers) {
    this.#attached = new Promise((resolve) => {
      this.#markAttached = resolve
    })
    // `cat` waits on its terminal forever and prints nothing: the session is only a seat.
    const {file, args} = tmux.clientCommand(['-C', 'new-session', '-s', this.#session, 'cat'])
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
      else if (line.startsWith('%session-changed ') && line.endsWith(` ${this.#session}`)) this.#markAttached()
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
      if (this.#child.stdin.writable) this.#child.stdin.write(`${args.map(commandQuote).join(' ')}\n`)
    })
  }

  /** Ends the client and its session; resolves once the tmux client has exited. */
  close(): Promise<void> {
    this.#send(['kill-session', '-t', exact(this.#session)])
    void this.#attached.then(() => this.#child.stdin.end())
    return this.closed
  }
}

/** Outside $TMUX, or tmux refuses to nest when maestro itself runs inside tmux. */
function withoutTmux(): NodeJS.ProcessEnv {
  const env = {...process.env}
  delete env.TMUX
  return env
}
