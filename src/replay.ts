import {type Cast, schedule} from './shared/cast.js'

/**
 * Modes a recorded program may have turned on that would outlive the replay in the user's
 * terminal (mouse reports, bracketed paste, application keys, a hidden cursor, colours); none of
 * them changes what the screen shows.
 */
const RESTORE = '\u001B[0m\u001B[?25h\u001B[?1000l\u001B[?1002l\u001B[?1003l\u001B[?1006l\u001B[?2004l\u001B[?1l\u001B>'

/** Whether a terminal is on its alternate screen after `data`, given whether it was before. */
function alternateAfter(data: string, before: boolean): boolean {
  let alternate = before
  for (const match of data.matchAll(/\u001B\[\?(?:1049|1047|47)([hl])/g)) alternate = match[1] === 'h'
  return alternate
}

/**
 * Plays a recording into `output` at its own pace times `speed`, until it ends or `q` (or
 * Ctrl-C) is pressed on `input` when that is a terminal. Then leaves the terminal usable: modes
 * the program set are undone, and an alternate screen it was left on is left (once `q` is
 * pressed, on a terminal).
 */
export async function play(cast: Cast, options: {speed: number; output: NodeJS.WriteStream; input: NodeJS.ReadStream}): Promise<'ended' | 'quit'> {
  const {output, input} = options
  let quit: () => void = () => {}
  const quitting = new Promise<'quit'>((resolve) => {
    quit = () => resolve('quit')
  })
  const onKey = (key: Buffer) => {
    if (key.includes(0x71) || key.includes(0x03)) quit()
  }
  if (input.isTTY) {
    input.setRawMode(true)
    input.on('data', onKey)
    input.resume()
  }
  const start = performance.now()
  let outcome: 'ended' | 'quit' = 'ended'
  let alternate = false
  try {
    for (const step of schedule(cast, options.speed)) {
      const wait = start + step.at - performance.now()
      if (wait > 0) {
        let timer: NodeJS.Timeout | undefined
        const result = await Promise.race([quitting, new Promise<'next'>((resolve) => (timer = setTimeout(() => resolve('next'), wait)))])
        clearTimeout(timer)
        if (result === 'quit') {
          outcome = 'quit'
          break
        }
      }
      // A terminal that is not ours cannot be resized: the warning before playing said so.
      if (step.type !== 'o') continue
      output.write(step.data)
      alternate = alternateAfter(step.data, alternate)
    }
    // Leaving the alternate screen erases it: its last frame stays until the viewer has seen it.
    if (outcome === 'ended' && alternate && input.isTTY) await quitting
  } finally {
    output.write(RESTORE + (alternate ? '\u001B[?1049l' : ''))
    if (input.isTTY) {
      input.off('data', onKey)
      input.setRawMode(false)
      input.pause()
    }
  }
  return outcome
}
