import type {Health} from '../shared/protocol.js'
import type {ConnectionStatus} from './connection.js'
import {retryIn} from './backoff.js'
import {h, setText} from './dom.js'

/** The strip at the top that says when the server is out of reach, and when the next try comes. */
export class ConnectionBanner {
  readonly element: HTMLElement
  private readonly text = h('span', {})
  private timer?: ReturnType<typeof setInterval>
  private wasOnline = false

  constructor(retryNow: () => void) {
    const retry = h('button', {type: 'button'}, 'Retry now')
    retry.addEventListener('click', retryNow)
    this.element = h('div', {class: 'banner', role: 'status', 'aria-live': 'polite', hidden: true}, this.text, retry)
  }

  show(status: ConnectionStatus): void {
    clearInterval(this.timer)
    if (status.kind === 'online') this.wasOnline = true
    // The first connection of a page load is not news; losing one is.
    if (status.kind === 'online' || (status.kind === 'connecting' && !this.wasOnline)) {
      this.element.hidden = true
      return
    }
    this.element.hidden = false
    this.element.dataset.kind = status.kind
    if (status.kind === 'connecting') return setText(this.text, 'Reconnecting…')
    const render = () => {
      const when = retryIn(status.retryAt)
      setText(
        this.text,
        status.kind === 'signed-out'
          ? `The server does not know this browser (it may have restarted with a new token): open the link maestro serve printed; ${when}.`
          : `Connection to maestro serve lost; ${when}. Changes are off until then.`,
      )
    }
    render()
    this.timer = setInterval(render, 1000)
  }
}

/**
 * The strip that says what the server cannot do right now: write to its disk (full or read-only),
 * or read the notes file (then notes are unavailable and note edits are refused). It goes away
 * when the problem does; `maestro doctor` names the fix.
 */
export class HealthBanner {
  readonly element: HTMLElement
  private readonly storage = h('p', {class: 'health-storage', hidden: true})
  private readonly notes = h('p', {class: 'health-notes', hidden: true})

  constructor() {
    this.element = h('div', {class: 'health', role: 'alert', hidden: true}, this.storage, this.notes)
  }

  show({storage, notes}: Health): void {
    this.storage.hidden = storage.failures === 0
    if (storage.failures > 0) {
      const times = storage.failures === 1 ? 'once' : `${storage.failures} times`
      setText(this.storage, `maestro serve could not write to its disk (${times}; last: ${storage.last}). It keeps running; maestro doctor says what to fix.`)
    }
    this.notes.hidden = notes === null
    if (notes !== null) setText(this.notes, `Notes are unavailable and cannot be saved: ${notes}`)
    this.element.hidden = this.storage.hidden && this.notes.hidden
  }
}
