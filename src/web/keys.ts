/** What a held Ctrl and/or Alt does to the next key, the way a terminal emulator encodes it. */
export interface Modifiers {
  ctrl: boolean
  alt: boolean
}

const CTRL_SYMBOLS: Record<string, string> = {'@': '\x00', ' ': '\x00', '[': '\x1b', '\\': '\x1c', ']': '\x1d', '^': '\x1e', _: '\x1f', '?': '\x7f'}

// Cursor keys in normal (`ESC [ A`) or application (`ESC O A`) mode; with modifiers xterm sends `ESC [ 1 ; m A`.
const CURSOR = /^\x1b[[O]([ABCD])$/

export function applyModifiers(data: string, {ctrl, alt}: Modifiers): string {
  if (!ctrl && !alt) return data
  const cursor = CURSOR.exec(data)
  if (cursor) return `\x1b[1;${1 + (alt ? 2 : 0) + (ctrl ? 4 : 0)}${cursor[1]}`
  let out = data
  if (ctrl && [...data].length === 1) {
    if (/^[a-z]$/i.test(data)) out = String.fromCharCode(data.toUpperCase().charCodeAt(0) & 0x1f)
    else out = CTRL_SYMBOLS[data] ?? data
  }
  return alt ? `\x1b${out}` : out
}

/** The key bar's plain keys and what each sends (cursor keys follow the terminal's mode). */
export const KEYBAR_KEYS = [
  {label: 'Esc', title: 'Escape', data: '\x1b'},
  {label: 'Tab', title: 'Tab', data: '\t'},
  {label: '←', title: 'Left', data: '\x1b[D'},
  {label: '↑', title: 'Up', data: '\x1b[A'},
  {label: '↓', title: 'Down', data: '\x1b[B'},
  {label: '→', title: 'Right', data: '\x1b[C'},
] as const
