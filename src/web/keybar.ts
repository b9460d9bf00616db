import {h, setAttr} from './dom.js'
import {KEYBAR_KEYS, type Modifiers, applyModifiers} from './keys.js'

/**
 * The touch key bar: keys a phone keyboard lacks, and Ctrl/Alt that stay pressed until the next
 * key, typed either on the bar or on the phone's own keyboard.
 */
export class KeyBar {
  readonly element: HTMLElement
  private readonly held: Modifiers = {ctrl: false, alt: false}
  private readonly toggles: Record<keyof Modifiers, HTMLButtonElement>

  constructor(
    private readonly send: (data: string) => void,
    private readonly cursorApplicationMode: () => boolean,
  ) {
    this.toggles = {ctrl: this.toggle('Ctrl', 'ctrl'), alt: this.toggle('Alt', 'alt')}
    const [esc, tab, ...arrows] = KEYBAR_KEYS.map((key) =>
      this.button(key.label, key.title, () => this.send(this.consume(this.cursorMode(key.data)))),
    )
    this.element = h('div', {class: 'keybar', role: 'toolbar', 'aria-label': 'Terminal keys'}, esc, tab, this.toggles.ctrl, this.toggles.alt, ...arrows)
  }

  /** Applies and releases held modifiers; every keystroke headed for the agent passes through here. */
  consume(data: string): string {
    if (!this.held.ctrl && !this.held.alt) return data
    const out = applyModifiers(data, this.held)
    this.set('ctrl', false)
    this.set('alt', false)
    return out
  }

  private cursorMode(data: string): string {
    return this.cursorApplicationMode() ? data.replace(/^\x1b\[(?=[ABCD]$)/, '\x1bO') : data
  }

  private toggle(label: string, modifier: keyof Modifiers): HTMLButtonElement {
    const button = this.button(label, `${label}: applies to the next key`, () => this.set(modifier, !this.held[modifier]))
    button.setAttribute('aria-pressed', 'false')
    return button
  }

  private set(modifier: keyof Modifiers, on: boolean): void {
    this.held[modifier] = on
    setAttr(this.toggles[modifier], 'aria-pressed', String(on))
  }

  private button(label: string, title: string, press: () => void): HTMLButtonElement {
    const button = h('button', {type: 'button', class: 'key', title, 'aria-label': title}, label)
    // Taking focus would close the phone's keyboard and blur the terminal.
    button.addEventListener('pointerdown', (event) => event.preventDefault())
    button.addEventListener('click', press)
    return button
  }
}
