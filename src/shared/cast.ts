/**
 * asciicast v2 (the asciinema format maestro records agents in): a JSON header line, then one
 * `[seconds, type, data]` event per line. Shared by `maestro replay` and the page.
 */

export interface CastHeader {
  version: 2
  width: number
  height: number
  timestamp?: number
  idle_time_limit?: number
}

export type CastEvent = [number, string, string]

export interface Cast {
  header: CastHeader
  events: CastEvent[]
}

/** A pause longer than this is cut to it on replay, as asciinema's idle_time_limit does, unless the file sets its own. */
export const IDLE_LIMIT_SECONDS = 2

/**
 * Reads an asciicast v2 text. A line that is not an event (the last one, torn by a recorder
 * killed mid-write) is skipped; a header that is not version 2 throws.
 */
export function parseCast(text: string): Cast {
  const lines = text.split('\n')
  let header: CastHeader
  try {
    header = JSON.parse(lines[0])
  } catch {
    throw new Error('not an asciicast file: its first line is not JSON')
  }
  if (header?.version !== 2 || !(header.width > 0) || !(header.height > 0)) throw new Error('not an asciicast v2 file: its header has no version 2, width and height')
  const events: CastEvent[] = []
  for (const line of lines.slice(1)) {
    if (!line) continue
    try {
      const event = JSON.parse(line)
      if (Array.isArray(event) && typeof event[0] === 'number' && typeof event[1] === 'string' && typeof event[2] === 'string') events.push(event as CastEvent)
    } catch {
      // a torn line
    }
  }
  return {header, events}
}

/** One thing a player does: write output (`o`) or resize to "COLSxROWS" (`r`), `at` ms from the start. */
export interface Step {
  at: number
  type: 'o' | 'r'
  data: string
}

/** When to write each piece of output and make each resize: pauses capped, then divided by `speed`. */
export function schedule(cast: Cast, speed = 1): Step[] {
  const limit = cast.header.idle_time_limit ?? IDLE_LIMIT_SECONDS
  const steps: Step[] = []
  let previous = cast.events[0]?.[0] ?? 0
  let at = 0
  for (const [time, type, data] of cast.events) {
    at += Math.min(Math.max(0, time - previous), limit)
    previous = time
    if (type === 'o' || type === 'r') steps.push({at: (at * 1000) / speed, type, data})
  }
  return steps
}

/** How long a replay at `speed` lasts, in seconds. */
export function duration(cast: Cast, speed = 1): number {
  const steps = schedule(cast, speed)
  return steps.length === 0 ? 0 : steps[steps.length - 1].at / 1000
}
