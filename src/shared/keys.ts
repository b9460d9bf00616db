import {MaestroError} from './errors.js'

/** tmux's names for the keys a user needs to drive an agent's menus and prompts. */
const NAMED_KEYS = [
  'Enter', 'Escape', 'Tab', 'BTab', 'BSpace', 'Space', 'Up', 'Down', 'Left', 'Right',
  'Home', 'End', 'PageUp', 'PageDown', 'PPage', 'NPage', 'Delete', 'DC', 'Insert', 'IC',
  'F1', 'F2', 'F3', 'F4', 'F5', 'F6', 'F7', 'F8', 'F9', 'F10', 'F11', 'F12',
]

/**
 * A named key or a letter or digit, after any of the modifiers C- (Ctrl), M- (Alt) and S- (Shift):
 * `Escape`, `Up`, `C-c`, `M-Enter`, `S-Tab`, `y`, `1`. Nothing else reaches tmux, which would
 * otherwise type an unknown name out letter by letter.
 */
const KEY_PATTERN = new RegExp(`^(?:[CMS]-)*(?:${NAMED_KEYS.join('|')}|[A-Za-z0-9])$`)

export function assertKeyName(key: string): void {
  if (!KEY_PATTERN.test(key)) {
    const shown = JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…` : key)
    throw new MaestroError(
      'INVALID_ARGUMENT',
      `unknown key ${shown}: use a tmux key name such as Escape, Enter, Up, Down, Left, Right, Tab, BSpace, C-c, or one letter or digit`,
      {key},
    )
  }
}
