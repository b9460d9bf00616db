import {listAgents} from './agents.js'
import {StateMemory} from './attention/state.js'
import type {Agent, AgentState} from './shared/agent.js'
import {MaestroError, agentNotFound} from './shared/errors.js'
import {assertAgentName} from './shared/names.js'
import type {Tmux} from './tmux/client.js'

type Listener = (agents: Agent[]) => void
type ErrorListener = (error: Error) => void

/**
 * Keeps the agent list current for whoever listens (serve, ls --watch, wait), and only while
 * someone does. Each listener hears the list when it subscribes and afterwards only when the
 * list changed since it last heard it. It remembers since when each agent is in its state.
 */
export class AgentWatcher {
  readonly #listeners = new Map<Listener, string>()
  readonly #errorListeners = new Set<ErrorListener>()
  readonly #memory = new StateMemory()
  #timer: NodeJS.Timeout | undefined
  #polling: Promise<void> | undefined
  #again = false
  #latest: Agent[] = []

  constructor(
    private readonly tmux: Tmux,
    private readonly intervalMs = 1000,
  ) {}

  /** `onError` hears reads that failed; the watcher itself tries again on its next tick. */
  subscribe(listener: Listener, onError?: ErrorListener): () => void {
    this.#listeners.set(listener, '')
    if (onError) this.#errorListeners.add(onError)
    this.#timer ??= setInterval(() => void this.refresh(), this.intervalMs)
    void this.refresh()
    return () => {
      this.#listeners.delete(listener)
      if (onError) this.#errorListeners.delete(onError)
      if (this.#listeners.size === 0 && this.#timer) {
        clearInterval(this.#timer)
        this.#timer = undefined
      }
    }
  }

  get latest(): readonly Agent[] {
    return this.#latest
  }

  /**
   * Reads the list now (after a change made through the API, say) and tells whoever has not
   * heard it. A call during a read gets one more read after it, which sees the change.
   */
  refresh(): Promise<void> {
    if (this.#polling) {
      this.#again = true
      return this.#polling
    }
    this.#polling = this.#poll().finally(() => {
      this.#polling = undefined
      if (this.#again) {
        this.#again = false
        void this.refresh()
      }
    })
    return this.#polling
  }

  async #poll(): Promise<void> {
    if (this.#listeners.size === 0) return
    try {
      this.#latest = await listAgents(this.tmux, this.#memory)
    } catch (error) {
      for (const onError of this.#errorListeners) onError(error as Error)
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
    this.#errorListeners.clear()
    clearInterval(this.#timer)
    this.#timer = undefined
  }
}

/**
 * Resolves with the agents once every one of them is in one of `states`; rejects with TIMEOUT
 * after `timeoutMs`, or AGENT_NOT_FOUND when an agent disappears (it can never get there).
 * `observe` hears every list read meanwhile (the onStateChange notifier).
 */
export function waitForStates(tmux: Tmux, names: string[], states: AgentState[], timeoutMs?: number, observe?: Listener): Promise<Agent[]> {
  for (const name of names) assertAgentName(name)
  const watcher = new AgentWatcher(tmux)
  return new Promise<Agent[]>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined
    let latest: Agent[] = []
    const finish = (error: Error | undefined, agents?: Agent[]) => {
      clearTimeout(timer)
      watcher.stop()
      if (error) reject(error)
      else resolve(agents!)
    }
    const timeOut = () => {
      const pending = names.flatMap((name) => latest.filter((agent) => agent.name === name && !states.includes(agent.state)))
      finish(
        new MaestroError('TIMEOUT', `timed out: ${pending.map((agent) => `${agent.name} is ${agent.state}`).join(', ')} (waited for ${states.join(' or ')})`, {
          agents: pending.map(({name, state}) => ({name, state})),
        }),
      )
    }
    watcher.subscribe(
      (agents) => {
        latest = agents
        observe?.(agents)
        const byName = new Map(agents.map((agent) => [agent.name, agent]))
        const missing = names.find((name) => !byName.has(name))
        if (missing) return finish(agentNotFound(missing))
        const wanted = names.map((name) => byName.get(name)!)
        if (wanted.every((agent) => states.includes(agent.state))) return finish(undefined, wanted)
        // Counted from the first reading, so that a timeout always says what the agents were doing.
        if (timeoutMs !== undefined) timer ??= setTimeout(timeOut, timeoutMs)
      },
      (error) => finish(error),
    )
  })
}
