import {type AgentState, type StateSource, printedRecently} from '../shared/agent.js'
import {MaestroError, agentNotFound} from '../shared/errors.js'
import type {Tmux} from '../tmux/client.js'
import {type SessionInfo, captureScreens, hasSession, setAgentOptions} from '../tmux/sessions.js'
import {programFor, readScreen, screenTable} from './screens.js'

/** States an agent may report about itself; `exited` is for tmux to tell. */
export const REPORTABLE_STATES = ['working', 'waiting', 'idle', 'unknown'] as const
export type ReportableState = (typeof REPORTABLE_STATES)[number]

export interface StateReading {
  state: AgentState
  since: Date
  source: StateSource
  message: string | null
}

interface Report {
  state: ReportableState
  at: number
  message: string | null
  /** Fingerprint of the screen when the report was made (see `screenFingerprint`). */
  screen: string
}

interface Seen {
  state: AgentState
  since: number
}

const REPORT_OPTION = '@maestro-report'
const SEEN_OPTION = '@maestro-seen'
export const MAX_MESSAGE_LENGTH = 200

/** Records what an agent (or its hook) says about itself; it holds until its screen changes. */
export async function reportState(tmux: Tmux, name: string, state: ReportableState, message?: string): Promise<Report> {
  if (!(await hasSession(tmux, name))) throw agentNotFound(name)
  // Control characters would break the one-line listing tmux gives back.
  const clean = message?.replace(/[\u0000-\u001F\u007F]+/g, ' ').trim().slice(0, MAX_MESSAGE_LENGTH) || null
  const screens = await captureScreens(tmux, [name])
  const report: Report = {state, at: Date.now(), message: clean, screen: screenFingerprint(screens.get(name) ?? '')}
  await setAgentOptions(tmux, new Map([[name, {[REPORT_OPTION]: JSON.stringify(report)}]]))
  return report
}

export function parseReportableState(value: string): ReportableState {
  if ((REPORTABLE_STATES as readonly string[]).includes(value)) return value as ReportableState
  throw new MaestroError('INVALID_ARGUMENT', `unknown state "${value}": use one of ${REPORTABLE_STATES.join(', ')}`)
}

function parseJson<T>(raw: string): T | undefined {
  if (!raw) return undefined
  try {
    return JSON.parse(raw) as T
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

/**
 * Reads the state of every session. A report wins until the screen changes after it; then the
 * screen of a known agent program decides; then output timing. A known agent whose screen
 * matches no pattern and that is quiet is `unknown`: it may be waiting for its user, or not.
 */
export async function readStates(tmux: Tmux, sessions: SessionInfo[], now = Date.now()): Promise<Map<string, StateReading>> {
  const table = await screenTable()
  const reports = new Map(sessions.map((session) => [session.name, parseJson<Report>(session.report)]))
  // tmux keeps activity in whole seconds: output in the second of the report counts as before it.
  const outputSinceReport = (session: SessionInfo) => {
    const report = reports.get(session.name)
    return report !== undefined && session.lastActivityAt.getTime() > report.at
  }
  const programs = new Map(sessions.map((session) => [session.name, session.dead ? undefined : programFor(table, `${session.command} ${session.currentCommand}`)]))
  const toRead = sessions
    .filter((session) => !session.dead && (outputSinceReport(session) || (programs.get(session.name) && !reports.get(session.name))))
    .map((session) => session.name)
  const screens = await captureScreens(tmux, toRead)
  const current = (session: SessionInfo) => {
    const report = reports.get(session.name)
    if (!report || !outputSinceReport(session)) return report
    const screen = screens.get(session.name)
    return screen !== undefined && screenFingerprint(screen) === report.screen ? report : undefined
  }

  const readings = new Map<string, StateReading>()
  const changed = new Map<string, Record<string, string>>()
  for (const session of sessions) {
    const reading = classify(session, current(session), programs.get(session.name), screens.get(session.name), now)
    const seen = parseJson<Seen>(session.seen)
    if (seen?.state === reading.state) reading.since = new Date(seen.since)
    else changed.set(session.name, {[SEEN_OPTION]: JSON.stringify({state: reading.state, since: reading.since.getTime()})})
    readings.set(session.name, reading)
  }
  // Remembering when a state began is what makes "waiting 5m" honest across calls; losing a race
  // with a session that just ended only costs that memory.
  await setAgentOptions(tmux, changed).catch(() => undefined)
  return readings
}

function classify(
  session: SessionInfo,
  report: Report | undefined,
  program: Awaited<ReturnType<typeof screenTable>>[number] | undefined,
  screen: string | undefined,
  now: number,
): StateReading {
  const lastOutput = session.lastActivityAt
  const active = printedRecently(lastOutput, now)
  if (session.dead) return {state: 'exited', since: lastOutput, source: 'activity', message: session.exitCode === null ? null : `exit code ${session.exitCode}`}
  if (report) return {state: report.state, since: new Date(report.at), source: 'report', message: report.message}
  if (program && screen !== undefined) {
    const reading = readScreen(program, screen)
    if (reading) return {state: reading.state, since: reading.state === 'working' ? new Date(now) : lastOutput, source: 'screen', message: reading.message}
    if (!active) return {state: 'unknown', since: lastOutput, source: 'screen', message: `${program.name} screen not recognised`}
  }
  return active ? {state: 'working', since: new Date(now), source: 'activity', message: null} : {state: 'idle', since: lastOutput, source: 'activity', message: null}
}
