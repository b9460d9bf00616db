import {MaestroError} from './errors.js'

/**
 * Quotes one word for a POSIX shell, which reads it back as exactly this string whatever it holds:
 * inside '…' nothing is special but ' itself, written as '\'' (close, escaped quote, reopen).
 * A NUL cannot cross a command line at all, so it is refused rather than cut short.
 */
export function shellQuote(word: string): string {
  if (word.includes('\0')) throw new MaestroError('INVALID_ARGUMENT', 'text with a NUL character cannot be passed to a remote host')
  return `'${word.replaceAll("'", "'\\''")}'`
}

/** A command line that a POSIX shell splits back into exactly `words`. */
export function shellCommand(words: string[]): string {
  return words.map(shellQuote).join(' ')
}
