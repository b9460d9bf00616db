import type {ConnectionStatus} from './connection.js'
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
      const seconds = Math.max(0, Math.ceil((status.retryAt - Date.now()) / 1000))
      setText(
        this.text,
        status.kind === 'signed-out'
          ? `The server does not know this browser (it may have restarted with a new token): open the link maestro serve printed. Retrying in ${seconds} s.`
          : `Connection to maestro serve lost. Retrying in ${seconds} s.`,
      )
    }
    render()
    this.timer = setInterval(render, 1000)
  }
}
