import {stat} from 'node:fs/promises'
import {resolve} from 'node:path'

import {screenTable} from './attention/screens.js'
import {REPORT_OPTION, type Report, type ReportableState, type StateMemory, type StateReading, classify, makeReport, screensNeeded} from './attention/state.js'
import {type Agent, printedRecently} from './shared/agent.js'
import {MaestroError, agentNotFound} from './shared/errors.js'
import {assertAgentName, groupOf} from './shared/names.js'
import {archiveAgent} from './store/archive.js'
import {type Note, appendNote, moveNote, readAllNotes, readNote, takeNote, writeNote} from './store/notes.js'
import type {Tmux} from './tmux/client.js'
import {
  type SessionInfo,
  captureScreens,
  captureScrollback,
  hasSession,
  killSession,
  listSessions,
  newSession,
  readSession,
  renameSession,
  setAgentOptions,
} from './tmux/sessions.js'

/** The operations every front end (CLI, HTTP API) offers on agents, with their rules in one place. */

function toAgent(session: SessionInfo, note: string, reading: StateReading, now: number): Agent {
  return {
    name: session.name,
    group: groupOf(session.name),
    status: session.dead ? 'exited' : printedRecently(session.lastActivityAt, now) ? 'active' : 'idle',
    exitCode: session.exitCode,
    createdAt: session.createdAt.toISOString(),
    lastActivityAt: session.lastActivityAt.toISOString(),
    attachedClients: session.attachedClients,
    dir: session.dir,
    command: session.command,
    note,
    state: reading.state,
    stateSince: reading.since.toISOString(),
    stateSource: reading.source,
    stateMessage: reading.message,
  }
}

/**
 * Every agent, read without writing anything: one tmux call lists the sessions, one more reads
 * the screens that classification needs. A process that lists again and again passes its
 * `memory` so that each state keeps the time it began.
 */
export async function listAgents(tmux: Tmux, memory?: StateMemory): Promise<Agent[]> {
  const [sessions, notes, table] = await Promise.all([listSessions(tmux), readAllNotes(), screenTable()])
  const screens = await captureScreens(tmux, screensNeeded(sessions))
  const now = Date.now()
  memory?.keep(sessions.map((session) => session.paneId))
  return sessions
    .map((session) => {
      const reading = classify(table, session, screens.get(session.name), now)
      return toAgent(session, notes[session.name]?.text ?? '', memory ? memory.recall(session.paneId, reading) : reading, now)
    })
    .sort((a, b) => a.name.localeCompare(b.name))
}

/** One agent, read with one targeted tmux call whatever the number of agents. */
export async function getAgent(tmux: Tmux, name: string): Promise<Agent> {
  assertAgentName(name)
  const [found, note, table] = await Promise.all([readSession(tmux, name), readNote(name), screenTable()])
  if (!found) throw agentNotFound(name)
  const now = Date.now()
  return toAgent(found.session, note.text, classify(table, found.session, found.screen, now), now)
}

/** Records what an agent (or its hook) says about itself; it holds until its screen changes. */
export async function reportAgentState(tmux: Tmux, name: string, state: ReportableState, message?: string): Promise<Report> {
  assertAgentName(name)
  const found = await readSession(tmux, name)
  if (!found) throw agentNotFound(name)
  const report = makeReport(state, message, found.screen)
  await setAgentOptions(tmux, new Map([[name, {[REPORT_OPTION]: JSON.stringify(report)}]]))
  return report
}

export interface CreateAgentOptions {
  name: string
  dir?: string
  command?: string
  note?: string
}

export async function createAgent(tmux: Tmux, options: CreateAgentOptions): Promise<Agent> {
  assertAgentName(options.name)
  const dir = resolve(options.dir ?? process.cwd())
  const info = await stat(dir).catch(() => undefined)
  if (!info?.isDirectory()) {
    throw new MaestroError('DIR_NOT_FOUND', `directory ${dir} does not exist (create it, or pass an existing --dir)`, {dir})
  }
  if (await hasSession(tmux, options.name)) {
    throw new MaestroError('AGENT_EXISTS', `agent "${options.name}" already exists (pick another name, or maestro kill ${options.name})`, {
      name: options.name,
    })
  }
  await archiveOrphanNote(options.name)
  const command = options.command ?? (await defaultCommand())
  await newSession(tmux, {name: options.name, dir, command})
  if (options.note) await writeNote(options.name, options.note)
  return getAgent(tmux, options.name)
}

async function defaultCommand(): Promise<string | undefined> {
  const {readSettings} = await import('./store/settings.js')
  return (await readSettings()).defaultCommand || undefined
}

/**
 * A note can outlive its agent when the session ended outside maestro (tmux killed, machine
 * restarted). A new agent of that name starts empty, so the old note goes to the archive first.
 */
async function archiveOrphanNote(name: string): Promise<void> {
  const orphan = await readNote(name)
  if (!orphan.text) return
  await archiveAgent({name, scrollback: '', note: orphan.text})
  await takeNote(name)
}

export interface KilledAgent {
  name: string
  archive: string
}

/** Archives the agent's scrollback and note, then ends its session. */
export async function killAgent(tmux: Tmux, name: string): Promise<KilledAgent> {
  const agent = await getAgent(tmux, name)
  const scrollback = await captureScrollback(tmux, name)
  const note = await readNote(name)
  const {note: _text, ...facts} = agent
  const archive = await archiveAgent({name, scrollback, note: note.text, agent: facts})
  await killSession(tmux, name)
  await takeNote(name)
  return {name, archive}
}

/** Ends exactly the named agents; when any name is unknown or invalid, ends none. */
export async function killAgents(tmux: Tmux, names: string[]): Promise<KilledAgent[]> {
  for (const name of names) assertAgentName(name)
  const existing = new Set((await listSessions(tmux)).map((session) => session.name))
  const missing = names.filter((name) => !existing.has(name))
  if (missing.length > 0) {
    throw new MaestroError(
      'AGENT_NOT_FOUND',
      `agent${missing.length > 1 ? 's' : ''} ${missing.map((name) => `"${name}"`).join(', ')} not found; nothing was killed (maestro ls lists agents)`,
      {names: missing},
    )
  }
  const killed: KilledAgent[] = []
  for (const name of new Set(names)) killed.push(await killAgent(tmux, name))
  return killed
}

export async function renameAgent(tmux: Tmux, from: string, to: string): Promise<Agent> {
  assertAgentName(from)
  assertAgentName(to)
  if (from === to) return getAgent(tmux, from)
  if (!(await hasSession(tmux, from))) throw agentNotFound(from)
  await renameSession(tmux, from, to)
  await moveNote(from, to)
  return getAgent(tmux, to)
}

async function assertExists(tmux: Tmux, name: string): Promise<void> {
  assertAgentName(name)
  if (!(await hasSession(tmux, name))) throw agentNotFound(name)
}

export async function getAgentNote(tmux: Tmux, name: string): Promise<Note> {
  await assertExists(tmux, name)
  return readNote(name)
}

export async function setAgentNote(tmux: Tmux, name: string, text: string, options: {expectedRevision?: number} = {}): Promise<Note> {
  await assertExists(tmux, name)
  return writeNote(name, text, options)
}

export async function appendAgentNote(tmux: Tmux, name: string, line: string): Promise<Note> {
  await assertExists(tmux, name)
  return appendNote(name, line)
}
