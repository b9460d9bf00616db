import {listAgents} from '../agents.js'
import type {Agent} from '../shared/agent.js'
import type {Tmux} from '../tmux/client.js'

type Listener = (agents: Agent[]) => void

/**
 * Polls the agent list once a second, and only while someone listens. Each listener hears the
 * list when it subscribes and afterwards only when the list changed since it last heard it.
 */
export class AgentWatcher {
  readonly #listeners = new Map<Listener, string>()
  #timer: NodeJS.Timeout | undefined
  #polling: Promise<void> | undefined
  #latest: Agent[] = []

  constructor(
    private readonly tmux: Tmux,
    private readonly intervalMs = 1000,
  ) {}

  subscribe(listener: Listener): () => void {
    this.#listeners.set(listener, '')
    this.#timer ??= setInterval(() => void this.refresh(), this.intervalMs)
    // A poll already under way may have passed this listener by; the next one will not.
    void this.refresh().then(() => {
      if (this.#listeners.get(listener) === '') void this.refresh()
    })
    return () => {
      this.#listeners.delete(listener)
      if (this.#listeners.size === 0 && this.#timer) {
        clearInterval(this.#timer)
        this.#timer = undefined
      }
    }
  }

  get latest(): readonly Agent[] {
    return this.#latest
  }

  /** Reads the list now (after a change made through the API, say) and tells whoever missed it. */
  refresh(): Promise<void> {
    this.#polling ??= this.#poll().finally(() => {
      this.#polling = undefined
    })
    return this.#polling
  }

  async #poll(): Promise<void> {
    if (this.#listeners.size === 0) return
    try {
      this.#latest = await listAgents(this.tmux)
    } catch {
      // A failed read (tmux busy, notes being replaced) is retried on the next tick.
      return
    }
    const json = JSON.stringify(this.#latest)
    for (const [listener, heard] of this.#listeners) {
      if (heard === json) continue
      this.#listeners.set(listener, json)
      listener(this.#latest)
    }
  }

  stop(): void {
    this.#listeners.clear()
    clearInterval(this.#timer)
    this.#timer = undefined
  }
}
