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
