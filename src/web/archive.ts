import {Terminal} from '@xterm/xterm'

import {type Cast, type Step, parseCast, schedule} from '../shared/cast.js'
import type {ArchiveEntry} from '../shared/protocol.js'
import {ApiError, api} from './api.js'
import {h, setText} from './dom.js'
import {FONT_FAMILY, OSC_CLIPBOARD, THEME} from './terminal.js'

const when = (iso: string) => new Date(iso).toLocaleString([], {month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit'})
const size = (bytes: number) => (bytes < 1024 * 1024 ? `${Math.max(1, Math.round(bytes / 1024))} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`)

/**
 * The archived agents, as `maestro archive ls` lists them, each with a Replay button that plays
 * its recording.cast in a terminal of the recorded size, as `maestro replay` does.
 */
export function archiveDialog(): void {
  const list = h('ul', {class: 'archive-list'}, h('li', {class: 'empty'}, 'Loading…'))
  const error = h('p', {class: 'dialog-error', role: 'alert', hidden: true})
  const close = h('button', {type: 'button'}, 'Close')
  const player = new Player()
  const listing = h('div', {class: 'archive-listing'}, h('p', {}, 'Agents that were killed, newest first. Their scrollback, note and recording are kept on the server.'), list)
  const form = h('form', {method: 'dialog', novalidate: true}, h('h2', {}, 'Archive'), error, listing, player.element, h('div', {class: 'row end'}, close))
  const dialog = h('dialog', {class: 'dialog archive'}, form)
  const showError = (failure: unknown) => {
    error.hidden = failure === undefined
    setText(error, failure instanceof Error ? failure.message : failure === undefined ? '' : String(failure))
  }
  const row = (entry: ArchiveEntry) => {
    const replay = h('button', {type: 'button', class: 'replay-button', disabled: !entry.recording, title: entry.recording ? 'Play its recording' : 'This archive has no recording'}, 'Replay')
    replay.addEventListener('click', async () => {
      replay.disabled = true
      try {
        const cast = parseCast(await api.recording(entry))
        showError(undefined)
        listing.hidden = true
        player.open(entry, cast, () => {
          listing.hidden = false
        })
      } catch (failure) {
        showError(failure instanceof ApiError || failure instanceof Error ? failure : String(failure))
      } finally {
        replay.disabled = !entry.recording
      }
    })
    const facts = [when(entry.killedAt), entry.command || 'shell', size(entry.size)].join(' · ')
    return h('li', {'data-name': entry.name, 'data-id': entry.id}, h('div', {class: 'archive-what'}, h('strong', {}, entry.name), h('small', {title: entry.dir ?? ''}, facts)), replay)
  }
  close.addEventListener('click', () => dialog.close())
  dialog.addEventListener('close', () => {
    player.stop()
    dialog.remove()
  })
  document.body.append(dialog)
  dialog.showModal()
  api.archives().then(
    (archives) => list.replaceChildren(...(archives.length ? archives.map(row) : [h('li', {class: 'empty'}, 'No agent was killed yet.')])),
    (failure) => {
      list.replaceChildren()
      showError(failure)
    },
  )
}

/**
 * Plays a recording in a terminal of its own: read-only, at the recorded size (following its
 * resizes), pauses cut as `maestro replay` cuts them. `data-state` says playing or ended.
 */
class Player {
  readonly element: HTMLElement
  private readonly title = h('strong')
  private readonly speed = h('select', {'aria-label': 'Speed'}, ...[1, 2, 8, 32].map((factor) => h('option', {value: factor}, `${factor}×`)))
  private readonly screen = h('div', {class: 'replay-screen'})
  private term?: Terminal
  private timer?: ReturnType<typeof setTimeout>
  private cast?: Cast
  private back: () => void = () => {}

  constructor() {
    const again = h('button', {type: 'button'}, 'Play again')
    const back = h('button', {type: 'button'}, 'Back to the list')
    again.addEventListener('click', () => this.play())
    this.speed.addEventListener('change', () => this.play())
    back.addEventListener('click', () => {
      this.stop()
      this.element.hidden = true
      this.back()
    })
    this.element = h('section', {class: 'replay', hidden: true, 'aria-label': 'Replay'}, h('div', {class: 'row'}, this.title, h('span', {class: 'spacer'}), this.speed, again, back), this.screen)
  }

  open(entry: ArchiveEntry, cast: Cast, back: () => void): void {
    this.cast = cast
    this.back = back
    setText(this.title, `${entry.name} · ${when(entry.killedAt)}`)
    this.element.hidden = false
    this.play()
  }

  play(): void {
    if (!this.cast) return
    this.stop()
    const {width, height} = this.cast.header
    this.term = new Terminal({cols: width, rows: height, disableStdin: true, cursorBlink: false, fontFamily: FONT_FAMILY, fontSize: 12, scrollback: 1000, theme: THEME})
    // A recording is agent output: as untrusted as the live terminal's.
    this.term.parser.registerOscHandler(OSC_CLIPBOARD, () => true)
    this.term.open(this.screen)
    this.run(schedule(this.cast, Number(this.speed.value)), performance.now(), 0)
  }

  private run(steps: Step[], start: number, index: number): void {
    this.element.dataset.state = 'playing'
    let next = index
    while (next < steps.length && steps[next].at <= performance.now() - start) {
      const step = steps[next++]
      if (step.type === 'o') this.term?.write(step.data)
      else {
        const [cols, rows] = step.data.split('x').map(Number)
        if (cols > 0 && rows > 0) this.term?.resize(cols, rows)
      }
    }
    if (next < steps.length) {
      this.timer = setTimeout(() => this.run(steps, start, next), steps[next].at - (performance.now() - start))
      return
    }
    // Written data is parsed asynchronously: the state changes once the terminal shows all of it.
    this.term?.write('', () => {
      this.element.dataset.state = 'ended'
    })
  }

  stop(): void {
    clearTimeout(this.timer)
    this.term?.dispose()
    this.term = undefined
    this.screen.replaceChildren()
  }
}
