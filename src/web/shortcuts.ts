import {h} from './dom.js'

export interface ShortcutActions {
  focusFilter(): void
  move(step: 1 | -1): void
  newAgent(): void
}

/** Alt+ combinations work even while the terminal has focus; everything else would be typed. */
export function isPageShortcut(event: KeyboardEvent): boolean {
  return event.altKey && !event.ctrlKey && !event.metaKey && (event.key === 'ArrowUp' || event.key === 'ArrowDown' || event.key === '/')
}

const HELP: [string, string][] = [
  ['/', 'Focus the filter (Alt+/ from the terminal)'],
  ['j  k', 'Next and previous agent (Alt+↓ and Alt+↑ from the terminal)'],
  ['Enter', 'In the filter: open the first match'],
  ['Esc', 'In the filter: clear it and go back to the terminal'],
  ['n', 'New agent'],
  ['Ctrl+Shift+C', 'Copy the terminal’s selection (Ctrl+C too, while text is selected)'],
  ['Ctrl+V', 'Paste into the terminal'],
  ['?', 'This help'],
]

function typingIn(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName))
}

let helpDialog: HTMLDialogElement | undefined

export function toggleHelp(): void {
  if (helpDialog?.open) return helpDialog.close()
  helpDialog ??= h(
    'dialog',
    {class: 'dialog help', 'aria-label': 'Keyboard shortcuts'},
    h('h2', {}, 'Keyboard shortcuts'),
    h('dl', {}, ...HELP.flatMap(([keys, what]) => [h('dt', {}, h('kbd', {}, keys)), h('dd', {}, what)])),
    h('form', {method: 'dialog', class: 'row end'}, h('button', {class: 'primary'}, 'Close')),
  )
  document.body.append(helpDialog)
  helpDialog.showModal()
}

export function installShortcuts(actions: ShortcutActions): void {
  document.addEventListener('keydown', (event) => {
    if (event.defaultPrevented || document.querySelector('dialog[open]:not(.help)')) return
    const plain = !event.altKey && !event.ctrlKey && !event.metaKey && !typingIn(event.target)
    let handled = true
    if (isPageShortcut(event)) {
      if (event.key === '/') actions.focusFilter()
      else actions.move(event.key === 'ArrowDown' ? 1 : -1)
    } else if (plain && event.key === '/') actions.focusFilter()
    else if (plain && event.key === 'j') actions.move(1)
    else if (plain && event.key === 'k') actions.move(-1)
    else if (plain && event.key === 'n') actions.newAgent()
    else if (plain && event.key === '?') toggleHelp()
    else handled = false
    if (handled) event.preventDefault()
  })
}
