import {FitAddon} from '@xterm/addon-fit'
import {Unicode11Addon} from '@xterm/addon-unicode11'
import {WebLinksAddon} from '@xterm/addon-web-links'
import {Terminal} from '@xterm/xterm'

import {ACK_EVERY_BYTES, type ClientMessage, CloseCode, MAX_INPUT_BYTES, type TerminalNotice} from '../shared/protocol.js'
import {socketUrl, terminalPath} from './api.js'
import {Backoff, retryIn} from './backoff.js'
import {h, setText} from './dom.js'
import {isPageShortcut} from './shortcuts.js'

export const OSC_CLIPBOARD = 52
/** DEC private modes that switch to the alternate screen (which keeps no scrollback). */
const ALTERNATE_SCREEN_MODES = new Set([47, 1047, 1049])
/**
 * What the terminal answers by itself to the program's queries (device attributes, cursor and
 * status reports, focus changes, colour queries): not the user typing.
 */
const TERMINAL_REPORT = /^(\x1b\[[?>=]?[\d;]*[cnRt]|\x1b\[[IO]|\x1b\[\?[\d;]*\$y|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1bP[^\x1b]*\x1b\\)+$/

/**
 * A click or wheel turn reported to the program (SGR or X10 encoding): aimed at the window as
 * drawn, so it must not resize that window under the pointer the way typing does.
 */
const MOUSE_REPORT = /^(\x1b\[<\d+;\d+;\d+[Mm]|\x1b\[M[\s\S]{3})+$/

/** The mouse events xterm.js turns into cells, for a selection, a link or a report to the program. */
const POINTER_EVENTS = ['mousedown', 'mousemove', 'mouseup', 'click', 'dblclick', 'auxclick', 'contextmenu', 'wheel'] as const

/** Under the server's byte limit on one input message: a UTF-16 code unit takes at most 3 bytes in UTF-8. */
const INPUT_CHUNK = Math.floor(MAX_INPUT_BYTES / 3)

export const FONT_FAMILY = 'ui-monospace, "SF Mono", "Cascadia Mono", "DejaVu Sans Mono", Menlo, Consolas, monospace'

export const THEME = {
  background: '#0f1115',
  foreground: '#d6dae1',
  cursor: '#d6dae1',
  selectionBackground: '#3a4a66',
  black: '#1c2028',
  brightBlack: '#5c6370',
}

/**
 * The WebGL renderer draws box-drawing and block characters itself, so boxes and logos join
 * without the seams the DOM renderer gets from the font. It is fetched once, after the first
 * terminal is shown, to keep it out of the first load.
 */
let webglModule: Promise<typeof import('@xterm/addon-webgl')> | undefined

function webglSupported(): boolean {
  try {
    return document.createElement('canvas').getContext('webgl2') !== null
  } catch {
    return false
  }
}

export interface TerminalViewOptions {
  readonly: boolean
  /** Every keystroke passes through here before it is sent (the key bar's sticky modifiers). */
  transformInput: (data: string) => string
  /** A key was typed into a read-only view, where it goes nowhere. */
  typedWhileReadonly: () => void
  /** Whether the page's own connection is up; while it is down the page retries for everyone. */
  pageOnline: () => boolean
  /** The server found this agent's session gone (killed or renamed elsewhere), sooner than the next list says so. */
  gone: (id: string) => void
}

/** Opens links from agent output in a new tab that cannot reach back into this page. */
function openLink(uri: string): void {
  let url: URL
  try {
    url = new URL(uri)
  } catch {
    return
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return
  window.open(url.href, '_blank', 'noopener,noreferrer')
}

/**
 * One agent's terminal: an xterm.js instance and its socket. It stays alive (and keeps receiving
 * output) while another agent is shown, so switching back finds it exactly as it was.
 */
export class TerminalView {
  readonly element: HTMLElement
  private readonly status: HTMLElement
  private readonly screen: HTMLElement
  private readonly term: Terminal
  private readonly fit = new FitAddon()
  private socket?: WebSocket
  private readonly backoff = new Backoff()
  private retryTimer?: ReturnType<typeof setTimeout>
  private countdown?: ReturnType<typeof setInterval>
  private opened = false
  private visible = false
  private everConnected = false
  /** The agent's history is asked for until it has arrived once: a reconnection must not add it again. */
  private hasHistory = false
  /** Set once the agent exited or vanished: there is nothing left to reconnect to. */
  private ended = false
  private readonly resizeObserver: ResizeObserver
  private fitFrame = 0
  /**
   * The agent's window size when it is not this viewer's own (another viewer typed last, or this
   * one is read-only): the terminal is drawn at it, scaled down to fit the width, until this viewer types.
   */
  private windowSize?: {cols: number; rows: number}
  /** The scale the terminal is drawn at (below 1 while it draws a larger window whole). */
  private factor = 1
  /** A mouse button went down on this terminal and is still held: the drag belongs to it, wherever the pointer is. */
  private dragging = false
  private readonly typedEarly: ClientMessage[] = []

  constructor(
    private name: string,
    private readonly options: TerminalViewOptions,
  ) {
    this.screen = h('div', {class: 'term-screen'})
    this.status = h('div', {class: 'term-status', role: 'status', hidden: true})
    this.element = h('div', {class: 'term', 'data-agent': name, hidden: true}, this.screen, this.status)
    this.term = new Terminal({
      allowProposedApi: true, // the unicode11 addon sets `unicode.activeVersion`
      disableStdin: options.readonly,
      cursorBlink: !options.readonly,
      fontFamily: FONT_FAMILY,
      fontSize: 13,
      lineHeight: 1.15,
      scrollback: 5000,
      theme: THEME,
      linkHandler: {activate: (_event, uri) => openLink(uri)},
    })
    // Agent output is untrusted: a prompt injection could make it write the user's clipboard.
    this.term.parser.registerOscHandler(OSC_CLIPBOARD, () => true)
    // tmux draws on the alternate screen, which has no scrollback. Kept on the main screen, the
    // agent's history that the server sends first stays above tmux's screen, within reach.
    for (const final of ['h', 'l']) {
      this.term.parser.registerCsiHandler({prefix: '?', final}, (params) => params.length === 1 && ALTERNATE_SCREEN_MODES.has(params[0] as number))
    }
    this.term.loadAddon(this.fit)
    this.term.loadAddon(new WebLinksAddon((_event, uri) => openLink(uri)))
    this.term.loadAddon(new Unicode11Addon())
    this.term.unicode.activeVersion = '11'
    this.term.attachCustomKeyEventHandler((event) => this.handleKey(event))
    this.term.onData((data) => this.input(this.options.transformInput(data)))
    this.term.onBinary((data) => this.input(data))
    this.term.onResize(({cols, rows}) => {
      this.sendMessage({type: 'resize', cols, rows})
      this.scheduleFit()
    })
    this.resizeObserver = new ResizeObserver(() => this.scheduleFit())
    // Before xterm.js's own listeners, which sit on the terminal and (during a drag) on the document.
    for (const type of POINTER_EVENTS) window.addEventListener(type, this.unscalePointer, {capture: true})
  }

  show(): void {
    this.visible = true
    this.element.hidden = false
    if (!this.opened) {
      this.opened = true
      this.term.open(this.screen)
      this.resizeObserver.observe(this.screen)
      this.setRenderer('dom')
      void this.useWebgl()
    }
    this.fitNow()
    if (!this.socket && !this.ended) this.connect()
  }

  hide(): void {
    this.visible = false
    this.element.hidden = true
    this.stopRetry()
  }

  /** The page lost the server: its banner counts down and calls reconnect() when it is back. */
  pageOffline(): void {
    this.stopRetry()
    if (!this.socket && !this.ended && this.everConnected) this.showStatus('Disconnected')
  }

  focus(): void {
    this.term.focus()
  }

  /** Reattaches at once if the socket is down, e.g. when the server is back. */
  reconnect(): void {
    if (!this.visible || this.socket || this.ended) return
    this.stopRetry()
    this.backoff.reset()
    this.connect()
  }

  /** The server's tmux client follows a renamed session by itself; only later reconnections need the new name. */
  renamed(to: string): void {
    this.name = to
    this.element.dataset.agent = to
  }

  /** Sends keys as if typed: the key bar uses it. */
  type(data: string): void {
    this.input(data)
    this.term.focus()
  }

  get applicationCursorKeys(): boolean {
    return this.term.modes.applicationCursorKeysMode
  }

  dispose(): void {
    this.ended = true
    this.stopRetry()
    cancelAnimationFrame(this.fitFrame)
    this.resizeObserver.disconnect()
    for (const type of POINTER_EVENTS) window.removeEventListener(type, this.unscalePointer, {capture: true})
    this.socket?.close(CloseCode.normal)
    this.term.dispose()
    this.element.remove()
  }

  /** Switches to the WebGL renderer when the browser has WebGL 2; the DOM renderer stays otherwise. */
  private async useWebgl(): Promise<void> {
    if (!webglSupported()) return
    webglModule ??= import('@xterm/addon-webgl')
    let addon: import('@xterm/addon-webgl').WebglAddon
    try {
      addon = new (await webglModule).WebglAddon()
      // Disposed while the chunk loaded.
      if (!this.element.isConnected) return
      this.term.loadAddon(addon)
    } catch {
      // A failed chunk load or a context that cannot be created: the DOM renderer keeps drawing.
      webglModule = undefined
      return
    }
    // The GPU process can drop the context (a driver reset, too many contexts): xterm.js goes
    // back to the DOM renderer once the addon is disposed, with the whole screen redrawn.
    addon.onContextLoss(() => {
      addon.dispose()
      this.setRenderer('dom')
    })
    this.setRenderer('webgl')
  }

  /** Which renderer draws the terminal, shown in the DOM for the tests. */
  private setRenderer(renderer: 'dom' | 'webgl'): void {
    this.element.dataset.renderer = renderer
  }

  private connect(): void {
    // A writer asks for its own size again; the server says if the window is another viewer's.
    if (!this.options.readonly && this.windowSize) {
      this.windowSize = undefined
      this.fitNow()
    }
    const {cols, rows} = this.size()
    this.showStatus(this.everConnected ? 'Reconnecting…' : 'Connecting…')
    const socket = new WebSocket(socketUrl(terminalPath(this.name, cols, rows, !this.hasHistory)))
    socket.binaryType = 'arraybuffer'
    this.socket = socket
    // Output this socket brought that the terminal has written and the server has not heard of.
    let written = 0
    const wrote = (bytes: number) => {
      written += bytes
      if (written < ACK_EVERY_BYTES || this.socket !== socket) return
      this.sendMessage({type: 'ack', bytes: written})
      written = 0
    }
    socket.onopen = () => {
      // No reset on a reconnection: tmux repaints the screen on attach, and the scrollback the page
      // already holds stays above it (the history is asked for only until it came once).
      this.everConnected = true
      this.backoff.reset()
      this.showStatus(null)
      // The layout may have changed while connecting, and resizes sent before the open were
      // dropped. Only a change is sent: a resize makes this viewer the window's latest client, and
      // opening an agent must not take its window over from the viewer who typed last.
      this.fitNow()
      if (this.term.cols !== cols || this.term.rows !== rows) this.sendMessage({type: 'resize', cols: this.term.cols, rows: this.term.rows})
      for (const early of this.typedEarly.splice(0)) this.sendMessage(early)
    }
    socket.onmessage = (message) => {
      if (message.data instanceof ArrayBuffer) {
        const bytes = message.data.byteLength
        // Acknowledged once written, not when received: a terminal that cannot keep up holds the server back.
        this.term.write(new Uint8Array(message.data), () => wrote(bytes))
      } else if (typeof message.data === 'string') this.notice(message.data)
    }
    socket.onclose = (event) => {
      if (this.socket !== socket) return
      this.socket = undefined
      if (event.code === CloseCode.agentExited) this.end('The agent exited.')
      else if (event.code === CloseCode.agentNotFound) this.end('This agent no longer exists.')
      else if (!this.ended && this.visible) this.scheduleRetry()
    }
  }

  private scheduleRetry(): void {
    if (!this.options.pageOnline()) return this.pageOffline()
    const retryAt = Date.now() + this.backoff.next()
    const render = () => this.showStatus(`Disconnected; ${retryIn(retryAt)}`)
    render()
    this.countdown = setInterval(render, 1000)
    this.retryTimer = setTimeout(() => {
      this.stopRetry()
      this.connect()
    }, retryAt - Date.now())
  }

  private stopRetry(): void {
    clearTimeout(this.retryTimer)
    clearInterval(this.countdown)
  }

  private notice(raw: string): void {
    let notice: TerminalNotice
    try {
      notice = JSON.parse(raw) as TerminalNotice
    } catch {
      return
    }
    if (notice.type === 'exit') this.end(notice.code === null ? 'The agent exited.' : `The agent exited with code ${notice.code}.`)
    else if (notice.type === 'gone') {
      this.end('This agent no longer exists.')
      this.options.gone(this.name)
    }
    else if (notice.type === 'error') this.showStatus(notice.message)
    else if (notice.type === 'history') this.history(notice.data)
    else if (notice.type === 'size') {
      const own = this.size()
      if (!this.options.readonly && own.cols === notice.cols && own.rows === notice.rows) {
        this.windowSize = undefined
        this.fitNow()
        return
      }
      // Resizing the terminal resizes this viewer's tmux client too (onResize), so that tmux
      // draws the whole window into it rather than a cropped or padded part.
      this.windowSize = {cols: notice.cols, rows: notice.rows}
      this.term.resize(notice.cols, notice.rows)
      this.fitNow()
    }
  }

  /**
   * Lines pushed off the top of the terminal become its scrollback; tmux then draws the screen
   * below them. The terminal keeps tmux on its main screen for this (see the constructor).
   */
  private history(data: string): void {
    this.hasHistory = true
    if (data) this.term.write(`${data.replaceAll('\n', '\u001b[0m\r\n')}${'\r\n'.repeat(this.term.rows - 1)}`)
  }

  private end(message: string): void {
    if (!this.ended) this.showStatus(message)
    this.ended = true
  }

  private showStatus(message: string | null): void {
    this.status.hidden = message === null
    setText(this.status, message ?? '')
  }

  private input(data: string): void {
    if (this.options.readonly) return
    // Typing takes the window over: this viewer's own size first, then the keys.
    if (this.windowSize && !TERMINAL_REPORT.test(data) && !MOUSE_REPORT.test(data)) {
      this.windowSize = undefined
      this.fitNow()
      this.sendMessage({type: 'resize', cols: this.term.cols, rows: this.term.rows})
    }
    // The server drops oversized frames, so a huge paste goes out in pieces it accepts.
    for (let start = 0; start < data.length; ) {
      let end = Math.min(data.length, start + INPUT_CHUNK)
      // Never split a character written as a surrogate pair between two frames.
      if (end < data.length && /[\uD800-\uDBFF]/.test(data[end - 1])) end--
      this.sendMessage({type: 'input', data: data.slice(start, end)})
      start = end
    }
  }

  private sendMessage(message: ClientMessage): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message))
    // Keys typed while the socket still opens are kept for it, not dropped.
    else if (message.type === 'input' && this.socket?.readyState === WebSocket.CONNECTING) this.typedEarly.push(message)
  }

  private size(): {cols: number; rows: number} {
    const proposed = this.opened ? this.fit.proposeDimensions() : undefined
    return proposed && proposed.cols >= 2 && proposed.rows >= 1 ? proposed : {cols: this.term.cols, rows: this.term.rows}
  }

  private scheduleFit(): void {
    cancelAnimationFrame(this.fitFrame)
    this.fitFrame = requestAnimationFrame(() => this.fitNow())
  }

  private fitNow(): void {
    // A hidden terminal measures as zero; it is fitted again when shown.
    if (this.visible && this.screen.clientWidth > 0) {
      if (this.windowSize) this.scaleToFit()
      else {
        this.fit.fit()
        this.scale(1)
      }
    }
    // Shown in the DOM so the size can be compared with the agent's tmux client (the tests do).
    this.element.dataset.size = `${this.term.cols}x${this.term.rows}`
  }

  /**
   * Draws a window wider than this viewer scaled down to the width it has, a narrower one at its
   * own size. Fitting the height as well would leave a desktop's window a narrow strip on a phone:
   * a window taller than the area once scaled scrolls instead.
   */
  private scaleToFit(): void {
    const grid = this.term.element?.querySelector<HTMLElement>('.xterm-screen')
    if (!grid || grid.offsetWidth === 0) return
    this.scale(Math.min(1, this.screen.clientWidth / grid.offsetWidth), grid)
  }

  private scale(factor: number, grid?: HTMLElement): void {
    const xterm = this.term.element
    if (!xterm) return
    const scaled = factor < 1 && grid !== undefined
    const rescaled = scaled && factor !== this.factor
    this.factor = scaled ? factor : 1
    xterm.style.transformOrigin = '0 0'
    xterm.style.transform = scaled ? `scale(${factor})` : ''
    // The terminal's own box (its background, scrollbar and wheel area) covers the whole grid, not
    // only as much of it as the area is wide before scaling.
    xterm.style.width = scaled ? `${grid.offsetWidth}px` : ''
    xterm.style.height = scaled ? `${grid.offsetHeight}px` : ''
    // The area scrolls while scaled (styles.css); newly drawn, its bottom, where the input line usually is, is in sight.
    this.element.classList.toggle('scaled', scaled)
    if (rescaled) this.screen.scrollTop = this.screen.scrollHeight
    this.element.dataset.scale = this.factor.toFixed(3)
  }

  /**
   * xterm.js finds the cell under the pointer from the pointer's offset in the grid's client rect,
   * divided by its own cell size: the scale transform shrinks the rect but not the cells, so a
   * selection or a click reported to the program would land on the wrong cell. The pointer is
   * moved back to where it is on the unscaled grid, on the event itself, before xterm.js reads it.
   */
  private readonly unscalePointer = (event: MouseEvent): void => {
    const inside = event.target instanceof Node && this.screen.contains(event.target)
    if (event.type === 'mousedown') this.dragging = inside
    const ours = inside || this.dragging
    if (event.type === 'mouseup') this.dragging = false
    const grid = this.term.element?.querySelector('.xterm-screen')
    if (this.factor === 1 || !ours || !grid) return
    const {left, top} = grid.getBoundingClientRect()
    Object.defineProperties(event, {
      clientX: {value: left + (event.clientX - left) / this.factor},
      clientY: {value: top + (event.clientY - top) / this.factor},
    })
  }

  /**
   * Ctrl+C copies when text is selected (and interrupts otherwise); Ctrl+Shift+C always copies,
   * since browsers keep that shortcut for their developer tools. Ctrl+V and Ctrl+Shift+V paste,
   * as in other browser terminals, rather than send ^V.
   */
  private handleKey(event: KeyboardEvent): boolean {
    if (event.type !== 'keydown') return true
    if (this.options.readonly && !isPageShortcut(event) && !['Control', 'Shift', 'Alt', 'Meta'].includes(event.key) && !event.ctrlKey && !event.metaKey) {
      this.options.typedWhileReadonly()
    }
    const key = event.key.toLowerCase()
    // Left to the browser, whose paste event xterm.js turns into input.
    if (event.ctrlKey && !event.altKey && key === 'v') return false
    const copy = (event.ctrlKey || event.metaKey) && key === 'c' && (event.shiftKey || this.term.hasSelection())
    if (copy && this.term.hasSelection()) {
      void navigator.clipboard?.writeText(this.term.getSelection()).catch(() => undefined)
      this.term.clearSelection()
      event.preventDefault()
      return false
    }
    // The page's own Alt shortcuts win over the terminal.
    return !isPageShortcut(event)
  }
}
