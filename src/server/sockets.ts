import type {IncomingMessage} from 'node:http'
import type {Duplex} from 'node:stream'

import {type WebSocket, WebSocketServer} from 'ws'

import {agentTerminal, agentWindowSize} from '../agents.js'
import type {Agent} from '../shared/agent.js'
import {locateAgent} from '../hosts.js'
import {MaestroError} from '../shared/errors.js'
import {parseAgentId} from '../shared/names.js'
import {CloseCode, type ServerEvent, type TerminalNotice, isValidSize} from '../shared/protocol.js'
import type {Context} from '../context.js'
import type {Tmux} from '../tmux/client.js'
import type {FleetWatcher} from '../fleet.js'
import type {StorageFailures} from '../store/failures.js'
import type {Grant} from '../store/grants.js'
import type {AuditLog} from './audit.js'
import type {Gate} from './gate.js'
import type {GrantBook} from './grants.js'
import {refuseRaw} from './respond.js'
import {TerminalViewer} from './terminal.js'

/** Client messages are small (input of at most MAX_INPUT_BYTES, or a resize); anything bigger is closed with 1009. */
export const MAX_PAYLOAD_BYTES = 256 * 1024
const DEFAULT_SIZE = {cols: 80, rows: 24}
/** What an event stream may have queued before lists are held back (a list of many agents with long notes is large). */
export const EVENTS_HIGH_WATER_BYTES = 1024 * 1024
/** How much of an agent's history a new viewer gets as scrollback (the page keeps 5,000 lines). */
const HISTORY_LINES = 2000

interface TerminalRoute {
  /** The agent's id (`HOST:NAME` on a remote host). */
  id: string
  cols: number
  rows: number
  readonly: boolean
  follow: boolean
  /** Asked for with `history=1`, read before the socket is accepted. */
  history?: string
  wantsHistory: boolean
}
/** When the window's size is read after a viewer resized or left: at once for the common case, later for a slow tmux. */
const WINDOW_CHECKS_MS = [150, 1000]
const TERMINAL_PATH = /^\/api\/agents\/([^/]+)\/terminal$/

export interface SocketOptions {
  tmux: Tmux
  /** How hosts are reached, for agents on them. */
  context: Context
  gate: Gate
  audit: AuditLog
  watcher: FleetWatcher
  readonly: boolean
  maxClients: number
  /** How often silent peers are pinged; one that misses a whole interval is dropped. */
  heartbeatMs: number
  grants: GrantBook
  storage: StorageFailures
}

/**
 * The WebSocket side: upgrades are routed and checked here before ws accepts them (anything
 * refused gets a plain HTTP answer and a closed socket), then each socket is an event stream
 * or a terminal viewer.
 */
export class Sockets {
  readonly #wss = new WebSocketServer({noServer: true, maxPayload: MAX_PAYLOAD_BYTES, perMessageDeflate: false})
  readonly #viewers = new Set<TerminalViewer>()
  readonly #streams = new Set<WebSocket>()
  /** Sockets opened with a share link's grant, by grant id. */
  readonly #granted = new Map<WebSocket, string>()
  readonly #alive = new WeakSet<WebSocket>()
  readonly #heartbeat: NodeJS.Timeout
  /** Agents whose window size is about to be read again. */
  readonly #windowChecks = new Map<string, NodeJS.Timeout>()
  /** Upgrades accepted but not yet handed to ws, which count against the cap too. */
  #pending = 0
  #unwatch: (() => void) | undefined

  constructor(private readonly options: SocketOptions) {
    this.#heartbeat = setInterval(() => this.#beat(), options.heartbeatMs)
    this.#heartbeat.unref()
    options.watcher.onRename((from, to) => this.renamed(from, to))
    // A window resized by anyone else (a `maestro attach` client that typed, attached or left).
    options.watcher.onResize((ids) => {
      for (const id of ids) if ([...this.#viewers].some((viewer) => viewer.id === id)) this.#windowMayChange(id)
    })
    options.grants.onChange(() => this.#checkGrants())
  }

  /** The sockets of a grant that was revoked or has expired close at once. */
  #checkGrants(): void {
    for (const [ws, id] of this.#granted) {
      if (this.options.grants.current(id)) continue
      this.#granted.delete(ws)
      this.options.audit.write('grant_refused', {grant: id, reason: 'revoked or expired', kind: 'socket'})
      ws.close(CloseCode.grantEnded, 'share revoked or expired')
    }
  }

  get viewers(): ReadonlySet<TerminalViewer> {
    return this.#viewers
  }

  upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy())
    const admission = this.options.gate.admit(request, {checkOrigin: true, acceptQueryToken: false})
    if (!admission.ok) return refuseRaw(socket, admission.status, admission.code, admission.message, admission.headers)
    const {url, address, identity} = admission
    const grant = identity.kind === 'grant' ? identity.grant : undefined
    const route = this.#route(url, this.options.readonly || grant?.role === 'viewer')
    if ('refusal' in route) return refuseRaw(socket, route.status, route.code, route.refusal)
    if (this.#wss.clients.size + this.#pending >= this.options.maxClients) {
      this.options.audit.write('refused', {address, status: 503, reason: 'too many clients', path: url.pathname})
      return refuseRaw(socket, 503, 'TOO_MANY_CLIENTS', `at most ${this.options.maxClients} sockets at once (maestro serve --max-clients)`)
    }
    // Whether the agent exists is known before the socket is accepted, so that the viewer is
    // listening from the socket's first frame on and no early keystroke is lost.
    // An agent outside a grant is answered exactly like an agent that does not exist.
    const exists = !('id' in route) ? Promise.resolve(undefined) : grant && !grant.agents.includes(route.id) ? Promise.resolve(notFound(route.id)) : this.#prepare(route)
    this.#pending++
    void exists.then((prepared) => {
      this.#pending--
      // ws adds the socket to its clients before handleUpgrade returns, so the cap holds.
      this.#wss.handleUpgrade(request, socket, head, (ws) => {
        this.#alive.add(ws)
        ws.on('pong', () => this.#alive.add(ws))
        ws.on('error', () => ws.terminate())
        const opened = Date.now()
        const agent = 'id' in route ? route.id : undefined
        const kind = agent === undefined ? 'events' : 'terminal'
        const readonly = 'id' in route ? route.readonly : this.options.readonly
        this.options.audit.write('socket_open', {address, kind, agent, readonly, grant: grant?.id})
        ws.on('close', (code) => {
          this.#granted.delete(ws)
          this.options.audit.write('socket_close', {address, kind, agent, code, grant: grant?.id, seconds: Math.round((Date.now() - opened) / 1000)})
        })
        if (grant) this.#granted.set(ws, grant.id)
        if (!('id' in route)) this.#events(ws, grant)
        else if (prepared && 'tmux' in prepared) this.#terminal(ws, {...route, ...prepared})
        else {
          const notice = prepared ?? notFound(route.id)
          ws.send(JSON.stringify(notice))
          // A host that does not answer may come back, and a tmux that could not run may run
          // later: the page tries again, as after any drop.
          const later = notice.type === 'error' && (notice.code === 'HOST_UNREACHABLE' || notice.code === 'TMUX_FAILED')
          if (later) ws.close(1011, notice.code === 'HOST_UNREACHABLE' ? 'host unreachable' : 'tmux failed')
          else ws.close(CloseCode.agentNotFound, 'agent not found')
        }
      })
    })
  }

  /**
   * Whether the agent exists. A read-only viewer takes the window's own size instead of asking
   * for one: tmux lets a lone ignore-size client size the window all the same. So does a viewer
   * that joins others: opening an agent does not take its window over (tmux would make the
   * newest client the latest); typing does.
   */
  async #prepare(route: TerminalRoute): Promise<{tmux: Tmux; name: string; history?: string} | TerminalNotice> {
    try {
      // The tmux server the id names: this machine's, or a host's over ssh.
      const {tmux, name} = await locateAgent(this.options.tmux, this.options.context, route.id)
      route.follow = route.readonly || [...this.#viewers].some((viewer) => viewer.id === route.id)
      const start = await agentTerminal(tmux, name, {fitWindow: route.follow, historyLines: route.wantsHistory ? HISTORY_LINES : undefined})
      if (!start) return notFound(route.id)
      Object.assign(route, start.size)
      return {tmux, name, history: start.history}
    } catch (error) {
      // A host that is unknown or does not answer, or a tmux that could not run, is said as such;
      // a name that cannot be an agent's reads as not found.
      if (error instanceof MaestroError && (error.code.startsWith('HOST_') || error.code === 'TMUX_FAILED')) return {type: 'error', code: error.code, message: error.message}
      return notFound(route.id)
    }
  }

  #route(url: URL, readonly: boolean): {events: true} | TerminalRoute | {status: number; code: string; refusal: string} {
    if (url.pathname === '/api/events') return {events: true}
    const match = TERMINAL_PATH.exec(url.pathname)
    if (!match) return {status: 404, code: 'NOT_FOUND', refusal: 'no such socket'}
    let id: string
    try {
      id = decodeURIComponent(match[1])
      parseAgentId(id)
    } catch {
      return {status: 400, code: 'INVALID_NAME', refusal: 'malformed agent name'}
    }
    const cols = url.searchParams.has('cols') ? Number(url.searchParams.get('cols')) : DEFAULT_SIZE.cols
    const rows = url.searchParams.has('rows') ? Number(url.searchParams.get('rows')) : DEFAULT_SIZE.rows
    if (!isValidSize(cols, rows)) return {status: 400, code: 'BAD_REQUEST', refusal: 'cols and rows must be whole numbers in range'}
    return {id, cols, rows, readonly, follow: false, wantsHistory: url.searchParams.get('history') === '1'}
  }

  /**
   * Every event is the whole list, so a client that stops reading needs none of the lists it
   * missed: past EVENTS_HIGH_WATER_BYTES queued, lists are held back and only the newest is sent
   * once the queue has drained, which brings the page up to date. Memory stays bounded per socket.
   */
  #events(ws: WebSocket, grant: Grant | undefined): void {
    let held: Agent[] | undefined
    let last: readonly Agent[] = []
    // A grant's agents change when one is renamed or killed: the stream follows the grant as it stands now.
    const scope = (): string[] => (grant && this.options.grants.current(grant.id)?.agents) || []
    let shown = scope().join('/')
    const rename = (from: string, to: string) =>
      ws.readyState === ws.OPEN && (!grant || scope().includes(from) || scope().includes(to)) && ws.send(JSON.stringify({type: 'renamed', from, to} satisfies ServerEvent))
    // A share link learns of the hosts its agents are on, and of no other.
    const hostsOf = () => this.options.watcher.hosts.filter((host) => !grant || scope().some((id) => id.startsWith(`${host.name}:`)))
    const deliver = (agents: Agent[]) => {
      if (ws.readyState !== ws.OPEN) return
      if (ws.bufferedAmount > EVENTS_HIGH_WATER_BYTES) {
        held = agents
        return
      }
      ws.send(JSON.stringify({type: 'agents', agents, hosts: hostsOf()} satisfies ServerEvent), () => {
        if (held && ws.bufferedAmount < EVENTS_HIGH_WATER_BYTES / 4) {
          const newest = held
          held = undefined
          deliver(newest)
        }
      })
    }
    const send = (all: readonly Agent[]) => {
      last = all
      deliver(grant ? all.filter((agent) => scope().includes(agent.id)) : [...all])
    }
    const regrant = grant
      ? this.options.grants.onChange(() => {
          const now = scope().join('/')
          if (now === shown) return
          shown = now
          send(last)
        })
      : undefined
    this.#streams.add(ws)
    const unrename = this.options.watcher.onRename(rename)
    const unsubscribe = this.options.watcher.subscribe(send)
    // Paths of the owner's directories are no business of a share link's.
    const unhealth = grant ? undefined : this.#health(ws)
    ws.on('close', () => {
      regrant?.()
      unhealth?.()
      unrename()
      unsubscribe()
      this.#streams.delete(ws)
    })
  }

  /**
   * Sends the server's health now and whenever it changes; returns a function that stops it.
   * While the disk is full every request counts a failure: a client that stops reading skips counts.
   */
  #health(ws: WebSocket): () => void {
    const {storage, watcher} = this.options
    const send = () => {
      if (ws.readyState !== ws.OPEN || ws.bufferedAmount > EVENTS_HIGH_WATER_BYTES) return
      ws.send(JSON.stringify({type: 'health', health: {storage: storage.health, notes: watcher.notesProblem}} satisfies ServerEvent))
    }
    send()
    const unstorage = storage.onChange(send)
    const unnotes = watcher.onNotesProblem(send)
    return () => {
      unstorage()
      unnotes()
    }
  }

  /** The open event streams and what each has queued, for diagnostics and tests. */
  get eventStreams(): {bufferedAmount: number}[] {
    return [...this.#streams].map((ws) => ({bufferedAmount: ws.bufferedAmount}))
  }

  #terminal(ws: WebSocket, route: TerminalRoute & {tmux: Tmux; name: string; history?: string}): void {
    const {tmux, id, name, cols, rows, readonly, follow, history} = route
    const viewer: TerminalViewer = new TerminalViewer(ws, {tmux, id, name, cols, rows, readonly, follow, history, onResize: () => this.#windowMayChange(viewer.id)})
    this.#viewers.add(viewer)
    // The pane of an agent whose program ended stays on screen; its viewers learn of the end here.
    this.#unwatch ??= this.options.watcher.subscribe((agents) => this.#checkExits(agents))
    ws.on('close', () => {
      this.#viewers.delete(viewer)
      if (this.#viewers.size === 0) {
        this.#unwatch?.()
        this.#unwatch = undefined
      }
    })
  }

  /**
   * The window follows the client that typed or resized last (`window-size latest`), and a page
   * that types sends its size first: so after a viewer's resize, or when tmux says the window
   * changed size for any other reason, the window's size is read (twice, WINDOW_CHECKS_MS) and
   * every viewer of a size that differs is told. Not on output: a tmux command per agent on
   * every burst of output would cost more than it gives.
   */
  #windowMayChange(id: string): void {
    // A later change starts the readings over.
    clearTimeout(this.#windowChecks.get(id))
    const viewers = () => [...this.#viewers].filter((viewer) => viewer.id === id)
    const check = async (index: number): Promise<void> => {
      if (viewers().length === 0) return void this.#windowChecks.delete(id)
      const [first] = viewers()
      const size = await agentWindowSize(first.tmux, first.sessionName).catch(() => undefined)
      if (size) for (const viewer of viewers()) viewer.windowSize(size.cols, size.rows)
      const next = WINDOW_CHECKS_MS[index + 1]
      if (next === undefined) return void this.#windowChecks.delete(id)
      this.#windowChecks.set(id, setTimeout(() => void check(index + 1), next - WINDOW_CHECKS_MS[index]).unref())
    }
    this.#windowChecks.set(id, setTimeout(() => void check(0), WINDOW_CHECKS_MS[0]).unref())
  }

  #checkExits(agents: readonly Agent[]): void {
    const byId = new Map(agents.map((agent) => [agent.id, agent]))
    for (const viewer of this.#viewers) {
      const agent = byId.get(viewer.id)
      if (agent?.status === 'exited') viewer.agentExited(agent.exitCode)
      // Renames reach the viewers (as events) before the list that shows them, so an agent
      // missing here has ended, which the tmux client of a paused viewer cannot tell.
      else if (!agent) viewer.checkGone()
    }
  }

  renamed(from: string, to: string): void {
    for (const viewer of this.#viewers) if (viewer.id === from) viewer.renamed(to)
  }

  #beat(): void {
    for (const ws of this.#wss.clients) {
      if (!this.#alive.has(ws)) {
        ws.terminate()
        continue
      }
      this.#alive.delete(ws)
      ws.ping()
    }
  }

  /** Closes every socket with 1001 and waits until every viewer's tmux client has exited. */
  async close(): Promise<void> {
    clearInterval(this.#heartbeat)
    for (const timer of this.#windowChecks.values()) clearTimeout(timer)
    this.#unwatch?.()
    const exits = [...this.#viewers].map((viewer) => viewer.close())
    for (const ws of this.#wss.clients) ws.close(CloseCode.goingAway, 'server stopping')
    await Promise.all(exits)
    for (const ws of this.#wss.clients) ws.terminate()
    this.#wss.close()
  }
}

function notFound(id: string): TerminalNotice {
  return {type: 'error', code: 'AGENT_NOT_FOUND', message: `agent "${id}" not found`}
}
