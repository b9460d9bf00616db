import type {Agent} from '../shared/agent.js'
import {newlyWaiting} from './tree.js'

const ENABLED_KEY = 'maestro.notify'

/**
 * Browser notifications when an agent starts waiting for input. Off until the user turns them on
 * (the browser asks for permission then), and only for changes seen after the page loaded.
 */
export class Notifier {
  private previous?: Map<string, Agent>

  constructor(private readonly open: (name: string) => void) {}

  get supported(): boolean {
    return 'Notification' in window
  }

  get enabled(): boolean {
    return this.supported && Notification.permission === 'granted' && localStorage.getItem(ENABLED_KEY) === '1'
  }

  async toggle(): Promise<boolean> {
    if (this.enabled) {
      localStorage.setItem(ENABLED_KEY, '0')
      return false
    }
    const permission = await Notification.requestPermission()
    localStorage.setItem(ENABLED_KEY, permission === 'granted' ? '1' : '0')
    return this.enabled
  }

  /** Call with every list update; `selected` is not announced while the user is looking at it. */
  update(agents: readonly Agent[], selected: string | undefined): void {
    const fresh = newlyWaiting(this.previous, agents)
    this.previous = new Map(agents.map((agent) => [agent.id, agent]))
    if (!this.enabled) return
    for (const agent of fresh) {
      if (agent.id === selected && document.visibilityState === 'visible') continue
      const notification = new Notification(`${agent.id} is waiting for you`, {body: agent.stateMessage ?? 'It needs your input.', tag: `maestro-${agent.id}`})
      notification.onclick = () => {
        window.focus()
        this.open(agent.id)
        notification.close()
      }
    }
  }
}
