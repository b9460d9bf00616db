import {constants} from 'node:os'

import {type AgentState, type StateSource, printedRecently} from '../shared/agent.js'
import {MaestroError} from '../shared/errors.js'
import type {PaneScreen, SessionInfo} from '../tmux/sessions.js'
import {type ScreenReading, type ScreenTable, fnv, programFor, readScreen} from './screens.js'

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
 */
export function screenFingerprint(screen: string): string {
  return fnv(screen.replace(/[\s\u2500-\u259F]+/g, ''))
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
export function screensNeeded(sessions: SessionInfo[]): SessionInfo[] {
  return sessions.filter((session) => {
    if (session.dead) return false
    const report = parseReport(session.report)
    return !report || outputSinceReport(session, report)
  })
}


/**
 * What classification takes from a screen: what the rules read on it, and its fingerprint. Small
 * enough to keep between runs, unlike the screen itself.
 */
export interface ScreenFacts {
  fingerprint: string
  reading: ScreenReading | null
  /** The known program the screen was read as (by the agent's command line and the program running in its pane). */
  program: string | null
}

export function screenFacts(table: ScreenTable, session: SessionInfo, screen: PaneScreen): ScreenFacts {
  const program = programFor(table, `${session.command} ${screen.currentCommand}`)
  return {fingerprint: screenFingerprint(screen.text), reading: readScreen(table, program, screen.text) ?? null, program: program?.name ?? null}
}

/**
 * The state of one session, from what tmux said about it and the facts of its screen (when
 * `screensNeeded` asked for them). An exit is final; a report wins until the screen changes after
 * it; then the screen decides (a known program's rules, then the generic prompts); then output
 * timing. A known agent whose screen matches no pattern and that is quiet is `unknown`: it may be
 * waiting for its user, or not. Pure: the same snapshot gives the same reading.
 */
export function classify(session: SessionInfo, screen: ScreenFacts | undefined, now: number): StateReading {
  const lastOutput = session.lastActivityAt
  if (session.dead) return {state: 'exited', since: lastOutput, source: 'exit', message: exitMessage(session.exitCode)}
  const report = parseReport(session.report)
  const reportHolds = report && (!outputSinceReport(session, report) || (screen !== undefined && screen.fingerprint === report.screen))
  if (report && reportHolds) return {state: report.state, since: new Date(report.at), source: 'report', message: report.message}
  const active = printedRecently(lastOutput, now)
  if (screen !== undefined) {
    const {reading, program} = screen
    if (reading) return {state: reading.state, since: reading.state === 'working' ? new Date(now) : lastOutput, source: 'screen', message: reading.message}
    if (program && !active) return {state: 'unknown', since: lastOutput, source: 'screen', message: `${program} screen not recognised`}
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

/** What a memory knows of one pane; `created` tells a pane from another of a later tmux server with the same id. */
interface PaneRecord {
  created: number
  /** The facts of its screen when last read, with its output time then (tmux's, whole seconds). */
  screen?: {activity: number; readAt: number; facts: ScreenFacts}
  /** The agent's report (raw) when its screen was last read; not saved, as a pace applies to watchers only. */
  report?: string
  /** Its last reading, and the fingerprint of the screen that reading was made on. */
  state?: {reading: StateReading; fingerprint: string | undefined}
}

/** A memory as JSON: dates as milliseconds. */
export interface SavedMemory {
  table: string
  panes: Record<string, Omit<PaneRecord, 'state'> & {state?: {reading: Omit<StateReading, 'since'> & {since: number}; fingerprint?: string}}>
}

/**
 * What was seen of each pane, by one process that lists agents again and again (serve, ls --watch,
 * wait) or, kept in a file, by one `ls` after another. It holds:
 * - the facts of each screen, so a screen is read again only once its pane printed since;
 * - when each agent entered its state: a working agent does not say since when it works, so the
 *   time it was first seen in that state is kept;
 * - what a redraw is: output that leaves the screen saying what it said is no work.
 * Keyed by pane, which a rename keeps. Facts hold for one screen table (`table`, its key).
 */
export class StateMemory {
  readonly #panes = new Map<string, PaneRecord>()
  /** When the first screen held back by the pace is to be read (see `stale`). */
  #held: number | undefined
  /**
   * Whether it learnt anything since it was loaded: a listing that saw nothing new does not write
   * its file again, and need not turn 500 records into JSON to find that out.
   */
  #learnt = false

  /**
   * `paceMs` is for a watcher: a screen that keeps changing is read at most once per paceMs, so
   * that agents printing without a pause cost a reading every few seconds rather than every one.
   */
  constructor(
    readonly table: string = '',
    readonly paceMs = 0,
  ) {}

  /** A memory saved by `save`; one made for another screen table keeps the states only. */
  static load(saved: SavedMemory | undefined, table: string): StateMemory {
    const memory = new StateMemory(table)
    const panes = saved?.panes ?? {}
    for (const paneId in panes) {
      const {created, screen, state} = panes[paneId]
      if (screen && saved?.table !== table) memory.#learnt = true
      memory.#panes.set(paneId, {
        created,
        screen: saved?.table === table ? screen : undefined,
        state: state && {reading: {...state.reading, since: new Date(state.reading.since)}, fingerprint: state.fingerprint},
      })
    }
    return memory
  }

  get learnt(): boolean {
    return this.#learnt
  }

  save(): SavedMemory {
    const panes: SavedMemory['panes'] = {}
    for (const paneId of this.#panes.keys()) {
      const {created, screen, state} = this.#panes.get(paneId)!
      panes[paneId] = {created, screen, state: state && {reading: {...state.reading, since: state.reading.since.getTime()}, fingerprint: state.fingerprint}}
    }
    return {table: this.table, panes}
  }

  #record(session: SessionInfo): PaneRecord {
    const created = session.createdAt.getTime()
    let record = this.#panes.get(session.paneId)
    if (record?.created !== created) {
      record = {created}
      this.#panes.set(session.paneId, record)
      this.#learnt = true
    }
    return record
  }

  /**
   * Whether the pane may have printed since its screen was last read. tmux keeps output times in
   * whole seconds, so a screen read within the second of its last output is read again.
   */
  stale(session: SessionInfo, now = Date.now()): boolean {
    const record = this.#panes.get(session.paneId)
    if (record?.created !== session.createdAt.getTime() || !record.screen) return true
    const {screen} = record
    const activity = session.lastActivityAt.getTime()
    if (screen.activity === activity && screen.readAt >= activity + 1000) return false
    return !this.#holds(session, record, screen, now)
  }

  /**
   * Whether a screen that changed waits for the pace: it was read less than paceMs ago, and the
   * agent made no report since (a report is judged against the screen it was made on, at once).
   */
  #holds(session: SessionInfo, record: PaneRecord, screen: NonNullable<PaneRecord['screen']>, now: number): boolean {
    if (now >= screen.readAt + this.paceMs || record.report !== session.report) return false
    this.#held = Math.min(this.#held ?? Number.POSITIVE_INFINITY, screen.readAt + this.paceMs)
    return true
  }

  /** When the first screen that `stale` held back since the last call is due, if any. */
  takeHeld(): number | undefined {
    const held = this.#held
    this.#held = undefined
    return held
  }

  /** Records the facts of a screen read at `readAt` (taken before the read). */
  see(session: SessionInfo, facts: ScreenFacts, readAt: number): void {
    const record = this.#record(session)
    record.screen = {activity: session.lastActivityAt.getTime(), readAt, facts}
    record.report = session.report
    this.#learnt = true
  }

  /** The facts of the pane's screen as last read. */
  facts(session: SessionInfo): ScreenFacts | undefined {
    return this.#record(session).screen?.facts
  }

  /**
   * The reading to show. Output that leaves the screen saying what it said is not work: a viewer
   * attaching, resizing or detaching makes the program redraw the same text at another size.
   * Such an agent keeps the reading it had, and its time.
   */
  recall(session: SessionInfo, reading: StateReading, facts?: ScreenFacts): StateReading {
    const record = this.#record(session)
    const seen = record.state
    const fingerprint = facts?.fingerprint
    const redrawn = reading.source === 'activity' && reading.state === 'working' && fingerprint !== undefined && seen?.fingerprint === fingerprint
    if (seen && redrawn && seen.reading.state !== 'working') return seen.reading
    if (seen?.reading.state === reading.state) {
      const kept = {...reading, since: seen.reading.since < reading.since ? seen.reading.since : reading.since}
      this.#remember(record, kept, fingerprint)
      return kept
    }
    this.#remember(record, reading, fingerprint)
    return reading
  }

  #remember(record: PaneRecord, reading: StateReading, fingerprint: string | undefined): void {
    const seen = record.state
    const same =
      seen !== undefined &&
      seen.fingerprint === fingerprint &&
      seen.reading.state === reading.state &&
      seen.reading.since.getTime() === reading.since.getTime() &&
      seen.reading.source === reading.source &&
      seen.reading.message === reading.message
    if (!same) this.#learnt = true
    record.state = {reading, fingerprint}
  }

  /** Forgets panes that are gone, so that memory follows the agents that exist. */
  keep(sessions: SessionInfo[]): void {
    const live = new Map(sessions.map((session) => [session.paneId, session.createdAt.getTime()]))
    for (const [paneId, {created}] of this.#panes) {
      if (live.get(paneId) === created) continue
      this.#panes.delete(paneId)
      this.#learnt = true
    }
  }
}
