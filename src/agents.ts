import {stat} from 'node:fs/promises'
import {resolve} from 'node:path'

import {type ScreenTable, screenTable} from './attention/screens.js'
import type {Context, Dirs} from './context.js'
import {REPORT_OPTION, type Report, type ReportableState, type ScreenFacts, type StateMemory, type StateReading, classify, makeReport, screenFacts, screensNeeded} from './attention/state.js'
import {type Agent, type AgentChanges, type AgentWorktree, printedRecently} from './shared/agent.js'
import {mapBounded} from './shared/bounded.js'
import {MaestroError, agentNotFound, agentsNotFound, storageFailure} from './shared/errors.js'
import {assertKeyName} from './shared/keys.js'
import {assertAgentName, formatAgentId, groupOf, isAgentName, sortByName} from './shared/names.js'
import {DEFAULT_KILL_GRACE_SECONDS, agentProcessesIn, endAgentProcesses, processTable} from './processes.js'
import {ArchiveDraft, archiveAgent, archiveFacts, archiveRecording, keepRecording, prepareRecording, readRecordingFacts, recordedAgentIds, recordingLimitBytes, recordingsDir, writeRecordingFacts} from './store/archive.js'
import type {Settings} from './store/settings.js'
import {type Note, appendNote, keptNoteHasText, moveNote, readAllNotes, readNote, readNotesForListing, takeNote, writeNote} from './store/notes.js'
import {loadMemory, saveMemory} from './store/seen.js'
import {type AttachOptions, attachTerminal} from './tmux/attach.js'
import {Tmux, type TmuxExec} from './tmux/client.js'
import {recordingFile} from './tmux/recorder.js'
import {RemoteTmux} from './tmux/remote.js'
import {
  type SessionInfo,
  agentProcessRoot,
  captureScreens,
  captureHistory,
  captureScrollback,
  fittingClientSize,
  hasSession,
  killSession,
  listSessions,
  newSession,
  readSession,
  renameSession,
  respawnSession,
  sendInput,
  setAgentOptions,
  startListing,
  wakeWatchersCommands,
} from './tmux/sessions.js'
import {
  type KeptWorktree,
  type RemovedWorktree,
  type SettledWorktree,
  WORKTREE_OPTION,
  type WorktreeRequest,
  defaultWorktreeDir,
  listWorktrees,
  makeWorktree,
  parseWorktreeOption,
  removeKeptWorktree,
  settleWorktree,
  summarize,
  worktreeChanges,
  worktreeDiff,
} from './worktrees.js'

/** The operations every front end (CLI, HTTP API) offers on agents, with their rules in one place. */

/**
 * Notes and archives of every agent are kept on this machine, under the agent's id: a remote
 * agent's never mix with those of a local agent of the same name.
 */
function keyOf(tmux: Tmux, name: string): string {
  return formatAgentId(tmux.host, name)
}

function toAgent(tmux: Tmux, session: SessionInfo, note: {text: string; locked?: boolean} | undefined, reading: StateReading, now: number): Agent {
  const lastActivityAt = session.lastActivityAt.toISOString()
  return {
    id: keyOf(tmux, session.name),
    host: tmux.host,
    name: session.name,
    group: groupOf(session.name),
    status: session.dead ? 'exited' : printedRecently(session.lastActivityAt, now) ? 'active' : 'idle',
    exitCode: session.exitCode,
    createdAt: session.createdAt.toISOString(),
    lastActivityAt,
    attachedClients: session.attachedClients,
    dir: session.dir,
    command: session.command,
    note: note?.text ?? '',
    noteLocked: note?.locked === true,
    state: reading.state,
    // An idle agent's state dates from its last output, the very same Date.
    stateSince: reading.since === session.lastActivityAt ? lastActivityAt : reading.since.toISOString(),
    stateSource: reading.source,
    stateMessage: reading.message,
    worktree: parseWorktreeOption(session.worktree),
  }
}

export interface ListOptions {
  /** Told when the notes cannot be read: the agents are listed without them. */
  onNotesProblem?: (problem: MaestroError) => void
}

/**
 * Every agent, read without changing any: one tmux call lists the sessions, and one more reads
 * the screens that classification needs and that changed since they were last read. A process
 * that lists again and again passes its `memory`; without one, what was seen is kept in the
 * state directory for the next listing (local agents only: a host's clock is not ours).
 */
export async function listAgents(tmux: Tmux, dirs: Dirs, memory?: StateMemory, options: ListOptions = {}): Promise<Agent[]> {
  const tableRead = screenTable(dirs)
  // Read while tmux lists: `maestro ls` starts its listing early (startListing), and waits for it.
  const memoryRead = memory || tmux.host ? undefined : tableRead.then((table) => loadMemory(dirs, tmux.socket, table.key))
  const [sessions, {notes, problem}, table, saved] = await Promise.all([listSessions(tmux), readNotesForListing(dirs), tableRead, memoryRead])
  if (problem) options.onNotesProblem?.(problem)
  const seen = memory ?? saved
  const screens = await readScreens(tmux, sessions, table, seen)
  const agents = agentsFrom({tmux, sessions, notes, screens, now: Date.now()}, seen)
  if (saved) await saveMemory(dirs, tmux.socket, saved)
  return agents
}

/** Starts reading this machine's agents for a listing that is yet to be asked for (see startListing). */
export function startListingAgents(context: Context): void {
  startListing(new Tmux(context.socket, context.env), context.stateDir)
}

/**
 * The facts of the screens classification needs (see `screensNeeded`), in one tmux call. With a
 * memory, only screens whose pane printed since it last read them are read, no more often than
 * the memory's pace allows.
 */
export async function readScreens(tmux: TmuxExec, sessions: SessionInfo[], table: ScreenTable, memory?: StateMemory): Promise<Map<string, ScreenFacts>> {
  const needed = screensNeeded(sessions)
  const stale = new Set(memory ? needed.filter((session) => memory.stale(session)) : needed)
  const readAt = Date.now()
  const read = await captureScreens(
    tmux,
    [...stale].map((session) => session.name),
  )
  const facts = new Map<string, ScreenFacts>()
  for (const session of needed) {
    const screen = read.get(session.name)
    if (screen !== undefined) {
      const fresh = screenFacts(table, session, screen)
      memory?.see(session, fresh, readAt)
      facts.set(session.name, fresh)
    } else if (!stale.has(session)) {
      const kept = memory?.facts(session)
      if (kept) facts.set(session.name, kept)
    }
  }
  return facts
}

/** What one reading of the agents is made of; `screens` holds the facts `screensNeeded` asked for. */
export interface Snapshot {
  /** The tmux server (local or a host's) the sessions are on. */
  tmux: Tmux
  sessions: SessionInfo[]
  notes: Record<string, {text: string; locked?: boolean}>
  screens: ReadonlyMap<string, ScreenFacts>
  now: number
}

/**
 * The agents a snapshot shows, sorted by name. A process that reads again and again passes its
 * `memory`, so that each state keeps the time it began.
 */
export function agentsFrom(snapshot: Snapshot, memory?: StateMemory): Agent[] {
  const {tmux, sessions, notes, screens, now} = snapshot
  memory?.keep(sessions)
  const agents = sessions.map((session) => {
    const facts = screens.get(session.name)
    const reading = classify(session, facts, now)
    return toAgent(tmux, session, notes[keyOf(tmux, session.name)], memory ? memory.recall(session, reading, facts) : reading, now)
  })
  return sortByName(agents, (agent) => agent.name)
}

/** An agent as `maestro ls` shows it: its worktree, if any, with a summary of its changes. */
export interface ListedAgent extends Agent {
  worktree: (AgentWorktree & {changes: string}) | null
}

/** Like listAgents, with each worktree's changes summarised ("clean", "1 commit, 2 files (+3 -0)"). */
export async function listAgentsWithChanges(tmux: Tmux, context: Context, options: ListOptions = {}): Promise<ListedAgent[]> {
  const agents = await listAgents(tmux, context, undefined, options)
  return Promise.all(
    agents.map((agent) => {
      // Most agents have no worktree: no promise or copy for them.
      if (!agent.worktree) return agent as ListedAgent
      const {worktree} = agent
      return worktreeChanges(context, worktree)
        .then(summarize, (error: Error) => `unreadable: ${error.message}`)
        .then((changes) => ({...agent, worktree: {...worktree, changes}}))
    }),
  )
}

/** One agent, read with one targeted tmux call whatever the number of agents. */
export async function getAgent(tmux: Tmux, dirs: Dirs, name: string): Promise<Agent> {
  assertAgentName(name)
  // Unreadable notes must not stop a kill: the agent is shown without its note.
  const [found, {notes}, table] = await Promise.all([readSession(tmux, {name}), readNotesForListing(dirs), screenTable(dirs)])
  if (!found) throw agentNotFound(name)
  const now = Date.now()
  return toAgent(tmux, found.session, notes[keyOf(tmux, name)], classify(found.session, screenFacts(table, found.session, found.screen), now), now)
}

/**
 * Records what an agent (or its hook) says about itself; it holds until its screen changes. The
 * agent is named, or given by its pane (`%12`, as in $TMUX_PANE), which finds it under the name it
 * has now. Two tmux calls: one reads the screen the report is made on, one stores the report.
 */
export async function reportAgentState(tmux: Tmux, agent: {name: string} | {pane: string}, state: ReportableState, message?: string): Promise<{name: string; report: Report}> {
  if ('name' in agent) assertAgentName(agent.name)
  const found = await readSession(tmux, agent)
  if (!found) throw agentNotFound('name' in agent ? agent.name : agent.pane)
  const {name} = found.session
  const report = makeReport(state, message, found.screen.text)
  await setAgentOptions(tmux, new Map([[name, {[REPORT_OPTION]: JSON.stringify(report)}]]), wakeWatchersCommands())
  return {name, report}
}

/** The names of the agents on a tmux server (this machine's or a host's), in one tmux call. */
export async function agentNames(tmux: Tmux): Promise<string[]> {
  return (await listSessions(tmux)).map((session) => session.name)
}

/** The worktrees maestro made that are still there, with the agent working in each now. */
export async function keptWorktrees(tmux: Tmux, context: Context): Promise<KeptWorktree[]> {
  return listWorktrees(context, await worktreesInUse(tmux))
}

/** Removes a kept worktree no agent works in, its changes archived (see removeKeptWorktree). */
export async function removeWorktree(tmux: Tmux, context: Context, pathOrBranch: string): Promise<RemovedWorktree> {
  return removeKeptWorktree(context, await worktreesInUse(tmux), pathOrBranch)
}

async function worktreesInUse(tmux: Tmux): Promise<Map<string, string>> {
  return new Map(
    (await listSessions(tmux)).flatMap((session) => {
      const worktree = parseWorktreeOption(session.worktree)
      return worktree ? [[worktree.path, session.name] as const] : []
    }),
  )
}

/** The worktree maestro made for an agent; NO_WORKTREE when it runs elsewhere. */
export async function agentWorktree(tmux: Tmux, dirs: Dirs, name: string): Promise<AgentWorktree> {
  const agent = await getAgent(tmux, dirs, name)
  if (!agent.worktree) {
    throw new MaestroError('NO_WORKTREE', `agent "${name}" has no worktree of its own (start one with maestro new ${name} --worktree)`, {name})
  }
  return agent.worktree
}

/** The page's "Changes" view: what `maestro diff --json` gives, with the patch itself. */
export async function agentChanges(tmux: Tmux, context: Context, name: string): Promise<AgentChanges> {
  const worktree = await agentWorktree(tmux, context, name)
  const [changes, patch] = await Promise.all([worktreeChanges(context, worktree), worktreeDiff(context, worktree, {})])
  const truncated = patch.length > MAX_PATCH_CHARS
  return {name, worktree, ...changes, patch: truncated ? patch.slice(0, MAX_PATCH_CHARS) : patch, truncated}
}

/** A page cannot show more of a patch usefully; `maestro diff` gives the whole of it. */
const MAX_PATCH_CHARS = 1_000_000

export interface CreateAgentOptions {
  name: string
  dir?: string
  command?: string
  note?: string
  /** Start the agent in a new git worktree of the repository `dir` is in. */
  worktree?: WorktreeRequest
}

export async function createAgent(tmux: Tmux, context: Context, options: CreateAgentOptions): Promise<Agent> {
  assertAgentName(options.name)
  // Worktrees are made with this machine's git, in this machine's repositories.
  if (options.worktree && tmux.host) throw new MaestroError('INVALID_ARGUMENT', '--worktree works for agents on this machine only')
  const dir = await directory(tmux, options.dir)
  if (await hasSession(tmux, options.name)) {
    throw new MaestroError('AGENT_EXISTS', `agent "${options.name}" already exists (pick another name, or maestro kill ${options.name})`, {
      name: options.name,
    })
  }
  // A note that could not be saved must not leave an agent behind: find out before starting it.
  if (options.note) await readAllNotes(context)
  await archiveOrphanNote(context, keyOf(tmux, options.name))
  // A session that vanished without a kill (tmux killed, a reboot) left its name in grants: the new agent is not shared.
  if (!tmux.host) await (await import('./store/grants.js')).forgetInGrants(context, options.name)
  // A settings file that cannot be read stops only the agents that need a setting.
  const settings = options.command === undefined || options.worktree ? await readSettings(context) : {}
  const command = options.command ?? (settings.defaultCommand || undefined)
  const worktree = options.worktree && (await makeWorktree(context, options.name, dir, options.worktree, settings.worktreeDir || defaultWorktreeDir(context)))
  // A remote agent is recorded on its host; kill brings the recording here.
  const recording = tmux instanceof RemoteTmux ? await remoteRecording(tmux, context) : await prepareRecording(context)
  try {
    const agentId = await newSession(tmux, {
      name: options.name,
      dir: worktree ? worktree.agentDir : dir,
      command,
      options: worktree ? {[WORKTREE_OPTION]: JSON.stringify(worktree.info)} : undefined,
      recording,
    })
    if (recording && !tmux.host) await writeRecordingFacts(context, agentId, {name: options.name, dir: worktree ? worktree.agentDir : dir, command: command ?? null, startedAt: new Date().toISOString()})
  } catch (error) {
    await worktree?.undo()
    throw error
  }
  if (options.note) await writeNote(context, keyOf(tmux, options.name), options.note)
  return getAgent(tmux, context, options.name)
}

/**
 * Starts an exited agent's program again in its own session, so its directory, command line,
 * note (kept under its name) and worktree stay as they were. Refused with AGENT_RUNNING while
 * the program still runs.
 */
export async function restartAgent(tmux: Tmux, dirs: Dirs, name: string): Promise<Agent> {
  const {dir} = await getAgent(tmux, dirs, name)
  await respawnSession(tmux, name, dir)
  return getAgent(tmux, dirs, name)
}

async function remoteRecording(tmux: RemoteTmux, dirs: Dirs): Promise<{dir: string; limitBytes: number} | undefined> {
  const dir = await tmux.recordingsDir()
  return dir === undefined ? undefined : {dir, limitBytes: await recordingLimitBytes(dirs)}
}

/** Fetches an ended remote agent's recording into its archive, then removes it from the host. */
async function archiveRemoteRecording(tmux: RemoteTmux, agentId: string, folder: string): Promise<string | null> {
  const cast = await tmux.readRecording(agentId)
  if (cast === null) return null
  const kept = await keepRecording(folder, cast)
  await tmux.removeRecording(agentId)
  return kept
}

/** The agent's directory, checked where it will run; a remote host checks its own. */
async function directory(tmux: Tmux, given: string | undefined): Promise<string> {
  if (tmux instanceof RemoteTmux) return tmux.directory(given)
  const dir = resolve(given ?? process.cwd())
  const info = await stat(dir).catch(() => undefined)
  // Said in words that fit the page as well as the CLI: no flag names.
  if (!info) throw new MaestroError('DIR_NOT_FOUND', `directory ${dir} does not exist`, {dir})
  if (!info.isDirectory()) throw new MaestroError('DIR_NOT_FOUND', `${dir} is not a directory`, {dir})
  return dir
}

async function killGraceSeconds(dirs: Dirs): Promise<number> {
  return (await readSettings(dirs)).killGraceSeconds ?? DEFAULT_KILL_GRACE_SECONDS
}

async function readSettings(dirs: Dirs): Promise<Settings> {
  const settings = await import('./store/settings.js')
  return settings.readSettings(dirs)
}

/**
 * A note can outlive its agent when the session ended outside maestro (tmux killed, machine
 * restarted). A new agent of that name starts empty, so the old note goes to the archive first.
 */
async function archiveOrphanNote(dirs: Dirs, name: string): Promise<void> {
  const orphan = await readNotesForListing(dirs)
  const left = orphan.notes[name]
  if (!left?.text && !left?.locked) return
  await takeNote(dirs, name, async (note) => {
    if (note && keptNoteHasText(note)) await archiveAgent(dirs, {name, scrollback: '', note})
  })
}

/** A left-over recording is archived under the name its agent had last, so the facts follow renames. */
async function renameRecordingFacts(tmux: Tmux, dirs: Dirs, name: string): Promise<void> {
  const {agentId} = await agentProcessRoot(tmux, name)
  const facts = agentId ? await readRecordingFacts(dirs, agentId) : {}
  if (facts.startedAt) await writeRecordingFacts(dirs, agentId, {dir: '', command: null, ...facts, startedAt: facts.startedAt, name})
}

/** Thrown inside takeNote to leave a note where it is: its agent turned out to be alive. */
const STILL_ALIVE = Symbol('still alive')

/**
 * Archives what agents that ended outside maestro (session or tmux server killed, machine
 * restarted) left behind: each recording whose recorder no longer runs, with its facts and the
 * note of its name. Notes alone are left to `new` (archiveOrphanNote): notes.json is shared by
 * every tmux socket, so a name without a session here may be an agent running on another. A recording is
 * only judged by its recorder, which carries the agent's id and runs as long as the pane does,
 * so a live agent's recording is never touched; where processes' ids cannot be read (not Linux)
 * nothing is archived. A name that has a session again keeps its note and recording.
 * Run by `archive ls` and the page's archive list, not by `ls`, whose every call it would slow.
 */
export async function archiveLeftovers(tmux: Tmux, dirs: Dirs): Promise<void> {
  if (tmux.host || process.platform !== 'linux') return
  const recorded = await recordedAgentIds(dirs)
  if (recorded.length === 0) return
  // Recordings are listed before processes: a recorder starts after its session and before its file.
  const running = new Set((await processTable()).map((entry) => entry.agentId))
  const leftovers = await Promise.all(
    recorded.filter((id) => !running.has(id)).map(async (id) => {
      const facts = await readRecordingFacts(dirs, id)
      return {id, facts, name: typeof facts.name === 'string' && isAgentName(facts.name) ? facts.name : id}
    }),
  )
  const names = new Set(leftovers.map((each) => each.name))
  for (const name of names) {
    const recordings = leftovers.filter((each) => each.name === name)
    await takeNote(dirs, name, async (note) => {
      // Checked again under the notes lock, which new, rename and kill hold while they change a session.
      if (await hasSession(tmux, name)) throw STILL_ALIVE
      // Each recording of that name, the first one with the note.
      for (const [index, {id, facts}] of recordings.entries()) {
        const draft = await ArchiveDraft.start(dirs, name, new Date(Date.now() + index))
        await draft.write('scrollback.txt', '')
        await draft.writeNote(index === 0 && note ? note : {text: ''})
        await draft.write('agent.json', archiveFacts(name, new Date(), {...facts, agentId: id, endedOutsideMaestro: true}))
        await archiveRecording(recordingFile(recordingsDir(dirs), id), await draft.keep())
      }
    }).catch((error) => {
      if (error !== STILL_ALIVE) throw error
    })
  }
}

export interface KilledAgent {
  id: string
  host: string | null
  name: string
  archive: string
  /** The agent's recording in its archive (recording.cast), or null when it had none. */
  recording: string | null
  /** How many of the agent's processes were ended (its pane's tree and, on Linux, every process carrying its id). */
  processesEnded: number
  /** What became of the agent's worktree (kept when it held work), or null without one. */
  worktree: SettledWorktree | null
}

/** An agent a kill could not end (or whose worktree it could not settle), and why. */
export interface KillFailure {
  id: string
  host: string | null
  name: string
  error: MaestroError | Error
}

export interface KillOutcome {
  killed: KilledAgent[]
  failed: KillFailure[]
}

export interface KillOptions {
  /** Remove the agent's worktree and branch even when they hold work (archived as a patch first). */
  discardWorktree?: boolean
}

/** Archives written at once by one kill: enough to hide disk and tmux latency, few enough for 2 cores. */
const KILL_CONCURRENCY = 8

/**
 * Archives the agent's scrollback and note, then ends its session; then settles its worktree:
 * its changes are archived as changes.patch, and it is removed when clean (or discarded).
 */
export async function killAgent(tmux: Tmux, context: Context, name: string, options: KillOptions = {}): Promise<KilledAgent> {
  const {killed, failed} = await killListedAgents(tmux, context, [await getAgent(tmux, context, name)], options)
  if (failed.length > 0) throw failed[0].error
  return killed[0]
}

/**
 * Ends agents already listed, without listing them again: archives are written in parallel (at
 * most KILL_CONCURRENCY at once), the processes of all of them are ended together with one
 * grace, and worktrees are settled. An agent that cannot be ended is left running, with no
 * archive, and named in `failed`; the others are ended all the same.
 */
export async function killListedAgents(tmux: Tmux, context: Context, agents: Agent[], options: KillOptions = {}): Promise<KillOutcome> {
  const failed: KillFailure[] = []
  const fail = (agent: Agent, error: unknown): undefined => {
    failed.push({id: agent.id, host: agent.host, name: agent.name, error: storageFailure(error) as Error})
    return undefined
  }
  // Processes are this machine's to find and signal; a remote host's agent ends with its session.
  const table = tmux.host ? [] : await processTable()
  const ended = await mapBounded(agents, KILL_CONCURRENCY, async (agent) => {
    try {
      const root = await agentProcessRoot(tmux, agent.name)
      const processes = tmux.host ? new Set<number>() : agentProcessesIn(table, root)
      return {agent, root, processes, archive: await archiveAndEnd(tmux, context, agent)}
    } catch (error) {
      return fail(agent, error)
    }
  })
  const done = ended.filter((each) => each !== undefined)
  const local = tmux.host ? [] : done
  const counts = local.length > 0 ? await endAgentProcesses(local.map((each) => each.root), local.map((each) => each.processes), await killGraceSeconds(context)) : []
  const killed = await mapBounded(done, KILL_CONCURRENCY, async ({agent, root, archive}) => {
    try {
      // Share links name agents of this machine only; node:crypto, which grants.js loads, is kept off the path of ls.
      if (!tmux.host) await (await import('./store/grants.js')).forgetInGrants(context, agent.name)
      // The recorder carries the agent's id, so it was among the processes ended: its last output is written.
      const recording = !root.agentId
        ? null
        : tmux instanceof RemoteTmux
          ? await archiveRemoteRecording(tmux, root.agentId, archive)
          : await archiveRecording(recordingFile(recordingsDir(context), root.agentId), archive)
      const worktree = agent.worktree && (await settleWorktree(context, agent.worktree, archive, {label: agent.id, discard: options.discardWorktree}))
      const processesEnded = tmux.host ? 0 : counts[local.findIndex((each) => each.agent === agent)]
      return {id: agent.id, host: tmux.host, name: agent.name, archive, recording, processesEnded, worktree}
    } catch (error) {
      return fail(agent, error)
    }
  })
  return {killed: killed.filter((each) => each !== undefined), failed}
}

/**
 * Writes the agent's archive, then ends its session; the archive is put in place only whole,
 * and removed again when the session could not be ended. The note is archived and removed under
 * the notes lock with the session ended in between, so a save either lands before (and is
 * archived) or after (and fails with AGENT_NOT_FOUND). The scrollback is written before the lock
 * is taken, so that the archives of several agents are written in parallel.
 */
async function archiveAndEnd(tmux: Tmux, dirs: Dirs, agent: Agent): Promise<string> {
  const scrollback = await captureScrollback(tmux, agent.name)
  const {note: _text, ...facts} = agent
  const now = new Date()
  const draft = await ArchiveDraft.start(dirs, agent.id, now)
  let sessionEnded = false
  try {
    await draft.write('scrollback.txt', scrollback)
    return await takeNote(dirs, agent.id, async (note) => {
      await draft.writeNote(note ?? {text: ''})
      await draft.write('agent.json', archiveFacts(agent.id, now, {...facts, noteUnavailable: note === undefined}))
      const folder = await draft.keep()
      await killSession(tmux, agent.name).catch((error) => {
        // A session that vanished meanwhile (killed outside maestro) is ended all the same: what was captured of it is kept.
        if (!(error instanceof MaestroError && error.code === 'AGENT_NOT_FOUND')) throw error
      })
      sessionEnded = true
      return folder
    })
  } catch (error) {
    // Once the session is gone, its archive is all that is left of it.
    if (!sessionEnded) await draft.discard()
    throw error
  }
}

/**
 * The error of a kill of several agents that did not end them all: KILL_INCOMPLETE, whose
 * details list what was `killed` and what `failed` (id, host, name, code, message).
 */
export function killIncomplete({killed, failed}: KillOutcome, asked: number): MaestroError {
  const first = failed[0].error
  return new MaestroError(
    'KILL_INCOMPLETE',
    `${failed.length} of ${asked} agent${asked === 1 ? '' : 's'} could not be ended, first ${failed[0].id}: ${first.message}` +
      `${killed.length > 0 ? `; ${killed.length} ended and archived` : ''}`,
    {
      killed,
      failed: failed.map(({id, host, name, error}) => ({id, host, name, code: error instanceof MaestroError ? error.code : 'UNEXPECTED', message: error.message})),
    },
  )
}

/** Ends exactly the named agents, listed once; when any name is unknown or invalid, ends none. */
export async function killAgents(tmux: Tmux, context: Context, names: string[], options: KillOptions = {}): Promise<KillOutcome> {
  for (const name of names) assertAgentName(name)
  const wanted = new Set(names)
  const agents = (await listAgents(tmux, context)).filter((agent) => wanted.has(agent.name))
  const existing = new Set(agents.map((agent) => agent.name))
  const missing = names.filter((name) => !existing.has(name))
  if (missing.length > 0) throw agentsNotFound(missing)
  return killListedAgents(tmux, context, agents, options)
}

export async function renameAgent(tmux: Tmux, dirs: Dirs, from: string, to: string): Promise<Agent> {
  assertAgentName(from)
  assertAgentName(to)
  if (from === to) return getAgent(tmux, dirs, from)
  if (!(await hasSession(tmux, from))) throw agentNotFound(from)
  await moveNote(dirs, keyOf(tmux, from), keyOf(tmux, to), () => renameSession(tmux, from, to))
  if (!tmux.host) {
    await (await import('./store/grants.js')).renameInGrants(dirs, from, to)
    await renameRecordingFacts(tmux, dirs, to)
  }
  return getAgent(tmux, dirs, to)
}

async function assertExists(tmux: Tmux, name: string): Promise<void> {
  assertAgentName(name)
  if (!(await hasSession(tmux, name))) throw agentNotFound(name)
}

export async function getAgentNote(tmux: Tmux, dirs: Dirs, name: string): Promise<Note> {
  await assertExists(tmux, name)
  return readNote(dirs, keyOf(tmux, name))
}

/** The agent's existence is checked again under the notes lock: a kill may end it meanwhile. */
export async function setAgentNote(tmux: Tmux, dirs: Dirs, name: string, text: string, options: {expectedRevision?: number} = {}): Promise<Note> {
  await assertExists(tmux, name)
  return writeNote(dirs, keyOf(tmux, name), text, {...options, check: () => assertExists(tmux, name)})
}

export async function appendAgentNote(tmux: Tmux, dirs: Dirs, name: string, line: string): Promise<Note> {
  await assertExists(tmux, name)
  return appendNote(dirs, keyOf(tmux, name), line, {check: () => assertExists(tmux, name)})
}

/** The agent's scrollback as plain text; only its last `lines` when given. */
export async function captureAgent(tmux: Tmux, name: string, options: {lines?: number} = {}): Promise<string> {
  assertAgentName(name)
  return captureScrollback(tmux, name, options)
}

/** Types `text` literally into the agent, then presses `keys` (tmux key names, checked before anything is typed). */
export async function sendToAgent(tmux: Tmux, name: string, input: {text: string; keys: string[]}): Promise<void> {
  assertAgentName(name)
  for (const key of input.keys) assertKeyName(key)
  await sendInput(tmux, name, input)
}

/** Attaches this process's terminal to the agent (or switches the tmux client it runs in). */
export async function attachAgent(tmux: Tmux, name: string, options: AttachOptions): Promise<void> {
  assertAgentName(name)
  await attachTerminal(tmux, name, options)
}

/** Whether the agent's session exists now (false for a name that could not be one). */
export async function agentExists(tmux: Tmux, name: string): Promise<boolean> {
  return isAgentName(name) && hasSession(tmux, name)
}

/** The size of the agent's window, as a tmux client must be to show all of it. */
export function agentWindowSize(tmux: Tmux, name: string): Promise<{cols: number; rows: number}> {
  return fittingClientSize(tmux, name)
}

/**
 * What a new terminal viewer of the agent starts from, or undefined when the agent does not
 * exist: with `fitWindow` (a read-only viewer, or one joining others) the size that leaves the agent's window as it
 * is, since tmux lets a lone ignore-size client size the window all the same; with
 * `historyLines` its last lines of history.
 */
export async function agentTerminal(
  tmux: Tmux,
  name: string,
  options: {fitWindow: boolean; historyLines?: number},
): Promise<{size?: {cols: number; rows: number}; history?: string} | undefined> {
  if (!(await agentExists(tmux, name))) return undefined
  return {
    size: options.fitWindow ? await fittingClientSize(tmux, name) : undefined,
    history: options.historyLines === undefined ? undefined : await captureHistory(tmux, name, options.historyLines),
  }
}
