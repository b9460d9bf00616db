import {type IPty, spawn} from 'node-pty'
import type {WebSocket} from 'ws'

import {agentExists} from '../agents.js'
import {MaestroError} from '../shared/errors.js'
import {parseAgentId} from '../shared/names.js'
import {CloseCode, OUTPUT_WINDOW_BYTES, type TerminalNotice, parseClientMessage} from '../shared/protocol.js'
import type {Tmux} from '../tmux/client.js'

/**
 * Past OUTPUT_WINDOW_BYTES sent to one viewer and not acknowledged, its pty is paused: tmux then
 * holds back that client alone (redrawing it when it catches up), so the server's memory stays
 * bounded and the other viewers, each on a pty of their own, never wait.
 */
const RESUME_BELOW_BYTES = OUTPUT_WINDOW_BYTES / 4
const FIRST_SCREEN_MS = 500
const MAX_EARLY_MESSAGES = 64
const FRAME_INTERVAL_MS = 4

export interface ViewerOptions {
  tmux: Tmux
  /** The agent's id (`HOST:NAME` on a remote host) and its session's name on `tmux`. */
  id: string
  name: string
  cols: number
  rows: number
  readonly: boolean
  /** `cols` and `rows` are the window's size, not the viewer's own: the viewer is told so first. */
  follow: boolean
  /** The agent's history (`captureHistory`) the page asked for, sent before tmux draws the screen. */
  history?: string
  /** Called after the viewer resized its tmux client: the window may have changed size (see Sockets). */
  onResize?: () => void
}

/**
 * One browser terminal: a `tmux attach` client of its own in a pty, joined to one WebSocket.
 * Closing either side ends the other; the agent itself is never touched.
 */
export class TerminalViewer {
  readonly #ws: WebSocket
  readonly #pty: IPty
  readonly #readonly: boolean
  readonly #tmux: Tmux
  readonly #onResize: () => void
  /** This viewer's tmux client size, and the window size it was last told. */
  #clientSize: {cols: number; rows: number}
  #told?: string
  #id: string
  #name: string
  #paused = false
  /** Output sent and not yet acknowledged by the page. */
  #unacked = 0
  #ended = false
  #ptyGone = false
  readonly #opened = Date.now()
  /** Input that came before tmux took over the pty, which would otherwise be lost. */
  #early: string[] | undefined = []
  #batch: Buffer[] = []
  #lastFrame = 0
  readonly exited: Promise<void>

  constructor(ws: WebSocket, options: ViewerOptions) {
    this.#ws = ws
    this.#id = options.id
    this.#name = options.name
    this.#readonly = options.readonly
    this.#tmux = options.tmux
    this.#onResize = options.onResize ?? (() => undefined)
    this.#clientSize = {cols: options.cols, rows: options.rows}
    const {file, args} = options.tmux.attachCommand(options.name, {readonly: options.readonly})
    const env = {...options.tmux.clientEnv(), TERM: 'xterm-256color'}
    this.#pty = spawn(file, args, {name: 'xterm-256color', cols: options.cols, rows: options.rows, env, encoding: null})
    this.exited = new Promise((resolve) =>
      this.#pty.onExit(() => {
        this.#ptyGone = true
        resolve()
      }),
    )

    // Sent before any output can be: the page sizes its terminal before the first screen.
    if (options.follow) this.#tell(options.cols, options.rows)
    if (options.history !== undefined) this.#notice({type: 'history', data: options.history})
    this.#pty.onData((chunk) => this.#output(chunk as unknown as Buffer))
    this.#pty.onExit(() => void this.#ptyExited())
    ws.on('message', (data, isBinary) => this.#message(data as Buffer, isBinary))
    ws.on('close', () => this.#end())
  }

  get id(): string {
    return this.#id
  }

  /** The tmux server of the agent, and its session's name there. */
  get tmux(): Tmux {
    return this.#tmux
  }

  get sessionName(): string {
    return this.#name
  }

  get readonly(): boolean {
    return this.#readonly
  }

  /** The agent was renamed (to this id); its tmux client follows the session by itself. */
  renamed(to: string): void {
    this.#id = to
    this.#name = parseAgentId(to).name
  }

  /**
   * The agent's window has this size now. A viewer whose tmux client has another size would see
   * it cropped or padded: it is told to draw the window's size. A read-only client's size is
   * ignored by tmux for the window, so the server itself gives it the window's size.
   */
  windowSize(cols: number, rows: number): void {
    if (this.#ended || (cols === this.#clientSize.cols && rows === this.#clientSize.rows)) return
    if (this.#readonly) this.#resize(cols, rows)
    this.#tell(cols, rows)
  }

  #tell(cols: number, rows: number): void {
    const key = `${cols}x${rows}`
    if (this.#told === key) return
    this.#told = key
    this.#notice({type: 'size', cols, rows})
  }

  #resize(cols: number, rows: number): void {
    this.#clientSize = {cols, rows}
    if (this.#ptyGone || this.#ended) return
    // node-pty throws on sizing a pty whose tmux client has ended, which it reports only once it
    // has read the pty to the end, and the page keeps sending sizes until the server has told it
    // why: a throw here, in a socket's message handler, would end the whole server.
    try {
      this.#pty.resize(cols, rows)
    } catch {
      // the client has ended: #ptyExited tells the page
    }
  }

  get paused(): boolean {
    return this.#paused
  }

  get bufferedAmount(): number {
    return this.#ws.bufferedAmount
  }

  get unacknowledged(): number {
    return this.#unacked
  }

  /**
   * The agent's program ended: tell the viewer how, then close. A viewer that has just opened
   * gets a moment to draw the agent's last screen first.
   */
  agentExited(code: number | null): void {
    const wait = FIRST_SCREEN_MS - (Date.now() - this.#opened)
    if (wait > 0) {
      setTimeout(() => this.agentExited(code), wait)
      return
    }
    this.#finish({type: 'exit', code}, CloseCode.agentExited, 'agent exited')
  }

  /** The server is stopping: ends this viewer and its tmux client; resolves once that process is gone. */
  close(): Promise<void> {
    if (this.#ws.readyState === this.#ws.OPEN) this.#ws.close(CloseCode.goingAway, 'server stopping')
    this.#end()
    return this.exited
  }

  #output(chunk: Buffer): void {
    // tmux draws, escape sequences first, only once it has put the terminal into raw mode; from
    // then on input is safe. What comes before it (ssh's own messages, for a remote agent) is
    // not tmux: input written then would be thrown away when tmux takes the terminal.
    if (this.#early && chunk.includes(0x1b)) {
      for (const data of this.#early) this.#pty.write(data)
      this.#early = undefined
    }
    // Output that follows a frame closely waits for the rest of FRAME_INTERVAL_MS and goes out
    // with it: a flood of small tmux updates then costs one write and one wake-up per interval
    // on both ends instead of one per read, which on a busy machine is CPU taken from tmux.
    // The first output after a quiet spell, such as a keystroke's echo, goes out at once.
    this.#batch.push(chunk)
    if (this.#batch.length > 1) return
    const wait = this.#lastFrame + FRAME_INTERVAL_MS - performance.now()
    if (wait <= 0) this.#flush()
    else setTimeout(() => this.#flush(), wait)
  }

  #flush(): void {
    const data = this.#batch.length === 1 ? this.#batch[0] : Buffer.concat(this.#batch)
    this.#batch = []
    this.#lastFrame = performance.now()
    if (this.#ws.readyState !== this.#ws.OPEN) return
    this.#ws.send(data, {binary: true})
    this.#unacked += data.length
    // Acknowledgements are the page's word; what the socket has not taken yet is the server's own count.
    if (!this.#paused && (this.#unacked > OUTPUT_WINDOW_BYTES || this.#ws.bufferedAmount > OUTPUT_WINDOW_BYTES)) {
      this.#paused = true
      this.#pty.pause()
    }
  }

  #acknowledged(bytes: number): void {
    this.#unacked = Math.max(0, this.#unacked - bytes)
    if (this.#paused && !this.#ended && this.#unacked < RESUME_BELOW_BYTES && this.#ws.bufferedAmount < RESUME_BELOW_BYTES) {
      this.#paused = false
      this.#pty.resume()
    }
  }

  #message(data: Buffer, isBinary: boolean): void {
    // Binary frames are not part of the protocol; like any malformed message they are dropped.
    if (isBinary || this.#ended) return
    const message = parseClientMessage(data.toString('utf8'))
    if (!message) return
    if (message.type === 'ack') return this.#acknowledged(message.bytes)
    // A read-only viewer keeps the window's size (see Sockets) and types nothing.
    if (this.#readonly) return
    if (message.type === 'resize') {
      this.#resize(message.cols, message.rows)
      // The window takes this size now (the viewer became the latest): a later change is news again.
      this.#told = undefined
      this.#onResize()
    } else if (!this.#early) {
      this.#pty.write(message.data)
    } else if (this.#early.length < MAX_EARLY_MESSAGES) {
      this.#early.push(message.data)
    }
  }

  async #ptyExited(): Promise<void> {
    if (this.#ended) return
    // tmux attach ends on its own when the session is gone, or when it could not attach at all.
    const gone = await this.#sessionGone()
    if (gone === true) this.#finish({type: 'gone'}, CloseCode.agentNotFound, 'agent gone')
    else if (gone instanceof MaestroError) this.#finish({type: 'error', code: gone.code, message: gone.message}, 1011, 'host unreachable')
    else this.#finish({type: 'error', code: 'TMUX_FAILED', message: 'the tmux client ended unexpectedly'}, 1011, 'tmux client ended')
  }

  /** The agent is no longer listed: ends the viewer if its session is gone indeed. */
  checkGone(): void {
    void this.#sessionGone().then((gone) => gone === true && !this.#ended && this.#finish({type: 'gone'}, CloseCode.agentNotFound, 'agent gone'))
  }

  /** Whether the session is gone; a remote host that does not answer cannot say: that is no exit, and the page tries again later. */
  #sessionGone(): Promise<boolean | MaestroError> {
    return agentExists(this.#tmux, this.#name).then(
      (exists) => !exists,
      (error: Error) => (error instanceof MaestroError && error.code === 'HOST_UNREACHABLE' ? error : true),
    )
  }

  #notice(notice: TerminalNotice): void {
    if (this.#ws.readyState === this.#ws.OPEN) this.#ws.send(JSON.stringify(notice))
  }

  #finish(notice: TerminalNotice, code: number, reason: string): void {
    this.#notice(notice)
    if (this.#ws.readyState === this.#ws.OPEN) this.#ws.close(code, reason)
    this.#end()
  }

  #end(): void {
    if (this.#ended) return
    this.#ended = true
    if (this.#ptyGone) return
    // node-pty reports the exit only after reading its pty to the end, which a paused pty never does.
    if (this.#paused) this.#pty.resume()
    this.#pty.kill()
  }
}
