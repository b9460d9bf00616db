import type {Agent, HostState} from '../shared/agent.js'
import type {Health, ServerEvent} from '../shared/protocol.js'
import {ApiError, api, socketUrl} from './api.js'
import {Backoff} from './backoff.js'

export type ConnectionStatus =
  | {kind: 'connecting'}
  | {kind: 'online'}
  | {kind: 'offline'; retryAt: number}
  /** The server runs but refuses this browser: its session cookie is from another server run. */
  | {kind: 'signed-out'; retryAt: number}

export interface ConnectionHandlers {
  /** Every agent, and the state of each remote host (none when only this machine has agents). */
  agents(agents: Agent[], hosts?: HostState[]): void
  /** An agent was renamed, here or elsewhere: the list that shows it follows. */
  renamed(from: string, to: string): void
  /** What keeps the server from doing its whole job (failed writes, unreadable notes); sent to the owner only. */
  health(health: Health): void
  status(status: ConnectionStatus): void
  /** Fired on every successful (re)connection, after the first agents arrived. */
  online(): void
}

/**
 * The page's live link to the server: the `/api/events` socket, reopened with backoff whenever it
 * drops. Everything else (terminals, notes) follows its lead on reconnection.
 */
export class Connection {
  private socket?: WebSocket
  private timer?: ReturnType<typeof setTimeout>
  private readonly backoff = new Backoff()

  constructor(private readonly handlers: ConnectionHandlers) {
    // The browser knows when the network came back sooner than any timer does.
    window.addEventListener('online', () => this.retryNow())
  }

  start(): void {
    this.open()
  }

  retryNow(): void {
    if (this.socket) return
    clearTimeout(this.timer)
    this.open()
  }

  private open(): void {
    this.handlers.status({kind: 'connecting'})
    const socket = new WebSocket(socketUrl('/api/events'))
    this.socket = socket
    socket.onopen = async () => {
      // The list is fetched once on every (re)connection rather than trusting a first push to come.
      const agents = await api.agents().catch(() => undefined)
      if (this.socket !== socket || !agents) return
      this.handlers.agents(agents)
      this.backoff.reset()
      this.handlers.status({kind: 'online'})
      this.handlers.online()
    }
    socket.onmessage = (message) => {
      if (typeof message.data !== 'string') return
      let event: ServerEvent
      try {
        event = JSON.parse(message.data) as ServerEvent
      } catch {
        return
      }
      if (event.type === 'agents' && Array.isArray(event.agents)) this.handlers.agents(event.agents, Array.isArray(event.hosts) ? event.hosts : [])
      else if (event.type === 'renamed' && typeof event.from === 'string' && typeof event.to === 'string') this.handlers.renamed(event.from, event.to)
      else if (event.type === 'health' && typeof event.health?.storage?.failures === 'number') this.handlers.health(event.health)
    }
    socket.onclose = () => {
      if (this.socket !== socket) return
      this.socket = undefined
      void this.scheduleRetry()
    }
  }

  private async scheduleRetry(): Promise<void> {
    const retryAt = Date.now() + this.backoff.next()
    // A failed upgrade does not say why; one plain request tells a stopped server from a refused cookie.
    const signedOut = await api.session().then(
      () => false,
      (error: unknown) => error instanceof ApiError && error.code === 'UNAUTHORIZED',
    )
    if (this.socket) return
    this.handlers.status({kind: signedOut ? 'signed-out' : 'offline', retryAt})
    this.timer = setTimeout(() => this.open(), Math.max(0, retryAt - Date.now()))
  }
}
