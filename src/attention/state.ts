import {constants} from 'node:os'

import {type AgentState, type StateSource, printedRecently} from '../shared/agent.js'
import {MaestroError} from '../shared/errors.js'
import type {SessionInfo} from '../tmux/sessions.js'
import {type ScreenTable, programFor, readScreen} from './screens.js'

/** States an agent may report about itself; `exited` is for tmux to tell. */
export const REPORTABLE_STATES = ['working', 'waiting', 'idle', 'unknown'] as const
export type ReportableState = (typeof REPORTABLE_STATES)[number]

export interface StateReading {
  state: AgentState
  since: Date
  source: StateSource
  message: string | null
}

/** What `maestro report` stores on the agent's session (option REPORT_OPTION), as JSON. */
export interface Report {
  state: ReportableState
  at: number
  message: string | null
  /** Fingerprint of the screen when the report was made (see `screenFingerprint`). */
  screen: string
}

export const REPORT_OPTION = '@maestro-report'
export const MAX_MESSAGE_LENGTH = 200

/** The report to store for what an agent says about itself, given its screen now. */
export function makeReport(state: ReportableState, message: string | undefined, screen: string, now = Date.now()): Report {
  // Control characters would break the one-line listing tmux gives back.
  const clean = message?.replace(/[\u0000-\u001F\u007F]+/g, ' ').trim().slice(0, MAX_MESSAGE_LENGTH) || null
  return {state, at: now, message: clean, screen: screenFingerprint(screen)}
}

export function parseReportableState(value: string): ReportableState {
  if ((REPORTABLE_STATES as readonly string[]).includes(value)) return value as ReportableState
  throw new MaestroError('INVALID_ARGUMENT', `unknown state "${value}": use one of ${REPORTABLE_STATES.join(', ')}`)
}

function parseReport(raw: string): Report | undefined {
  if (!raw) return undefined
  try {
    return JSON.parse(raw) as Report
  } catch {
    return undefined
  }
}

/**
 * What a screen says, leaving out how it is laid out: a viewer attaching resizes the window and
 * the program redraws the same text at another width, which is output but not a change.
 * FNV-1a, because `ls` should not load a crypto module to compare two screens.
 */
export function screenFingerprint(screen: string): string {
  let hash = 0x811c9dc5
  for (const char of screen.replace(/[\s\u2500-\u259F]+/g, '')) {
    hash ^= char.codePointAt(0)!
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash.toString(16)
}

// tmux keeps activity in whole seconds: output in the second of the report counts as before it.
function outputSinceReport(session: SessionInfo, report: Report | undefined): boolean {
  return report !== undefined && session.lastActivityAt.getTime() > report.at
}

/**
 * The sessions whose visible screen classification needs: every live one without a report (the
 * generic prompts fit any program), and reported agents that printed since their report (has the
 * screen changed?).
 */
export function screensNeeded(sessions: SessionInfo[]): string[] {
  return sessions
    .filter((session) => {
      if (session.dead) return false
      const report = parseReport(session.report)
      return !report || outputSinceReport(session, report)
    })
    .map((session) => session.name)
}

function programLine(session: SessionInfo): string {
  return `${session.command} ${session.currentCommand}`
}

/**
 * The state of one session, from what tmux said about it and its screen (when `screensNeeded`
 * asked for it). An exit is final; a report wins until the screen changes after it; then the
 * screen decides (a known program's rules, then the generic prompts); then output timing. A known agent whose screen matches no pattern and that is
 * quiet is `unknown`: it may be waiting for its user, or not. Pure: the same snapshot gives the
 * same reading.
 */
export function classify(table: ScreenTable, session: SessionInfo, screen: string | undefined, now: number): StateReading {
  const lastOutput = session.lastActivityAt
  if (session.dead) return {state: 'exited', since: lastOutput, source: 'exit', message: exitMessage(session.exitCode)}
  const report = parseReport(session.report)
  const reportHolds = report && (!outputSinceReport(session, report) || (screen !== undefined && screenFingerprint(screen) === report.screen))
  if (report && reportHolds) return {state: report.state, since: new Date(report.at), source: 'report', message: report.message}
  const active = printedRecently(lastOutput, now)
  const program = programFor(table, programLine(session))
  if (screen !== undefined) {
    const reading = readScreen(table, program, screen)
    if (reading) return {state: reading.state, since: reading.state === 'working' ? new Date(now) : lastOutput, source: 'screen', message: reading.message}
    if (program && !active) return {state: 'unknown', since: lastOutput, source: 'screen', message: `${program.name} screen not recognised`}
  }
  return active ? {state: 'working', since: new Date(now), source: 'activity', message: null} : {state: 'idle', since: lastOutput, source: 'activity', message: null}
}

/**
 * How an agent's program ended. Its shell reports death by a signal as 128 + the signal number,
 * which is all that is left to know once the program is gone.
 */
export function exitMessage(code: number | null): string | null {
  if (code === null) return 'exit status unknown'
  const signal = code > 128 ? Object.entries(constants.signals).find(([, number]) => number === code - 128)?.[0] : undefined
  return signal ? `exit code ${code} (${signal})` : `exit code ${code}`
}

/**
 * When each agent entered its state, as far as one process has seen: a working agent does not
 * say since when it works, so a process that lists agents again and again (serve, ls --watch,
 * wait) keeps the time it first saw that state. Keyed by pane, which a rename keeps.
 */
export class StateMemory {
  readonly #seen = new Map<string, {reading: StateReading; screen: string | undefined}>()

  /**
   * Output that leaves the screen saying what it said is not work: a viewer attaching, resizing or
   * detaching makes the program redraw the same text at another size. Such an agent keeps the
   * reading it had, and its time.
   */
  recall(paneId: string, reading: StateReading, screen?: string): StateReading {
    const seen = this.#seen.get(paneId)
    const fingerprint = screen === undefined ? undefined : screenFingerprint(screen)
    const redrawn = reading.source === 'activity' && reading.state === 'working' && fingerprint !== undefined && seen?.screen === fingerprint
    if (seen && redrawn && seen.reading.state !== 'working') return seen.reading
    if (seen?.reading.state === reading.state) {
      const kept = {...reading, since: seen.reading.since < reading.since ? seen.reading.since : reading.since}
      this.#seen.set(paneId, {reading: kept, screen: fingerprint})
      return kept
    }
    this.#seen.set(paneId, {reading, screen: fingerprint})
    return reading
  }

  /** Forgets panes that are gone, so that memory follows the agents that exist. */
  keep(paneIds: Iterable<string>): void {
    const live = new Set(paneIds)
    for (const paneId of this.#seen.keys()) if (!live.has(paneId)) this.#seen.delete(paneId)
  }
}
