import {randomUUID} from 'node:crypto'

import {MaestroError, agentNotFound} from '../shared/errors.js'
import {Tmux, TmuxCommandError, type TmuxExec, commandLine, exact, exactPane, formatLiteral, isNoServer} from './client.js'
import {recordPaneCommand, recordingFile} from './recorder.js'

/**
 * What tmux knows about one agent's session, read in a single `list-panes -a` call. What tmux must
 * ask the system for (the pane's current program and directory) is left out, or asked only when
 * maestro's own record is missing: a listing costs the same per agent, and should cost little.
 */
export interface SessionInfo {
  name: string
  createdAt: Date
  lastActivityAt: Date
  attachedClients: number
  dead: boolean
  exitCode: number | null
  dir: string
  /** The command line it was started with; for a session maestro did not start, the program running in it. */
  command: string
  /** The last state the agent reported with `maestro report`, raw JSON; empty when none. */
  report: string
  /** tmux's id of the agent's pane (`%12`): it stays the same when the agent is renamed. */
  paneId: string
  /** The worktree maestro made for the agent, raw JSON; empty when it has none. */
  worktree: string
}

// Unit separator: cannot occur in agent names, and tmux passes it through unescaped.
const SEP = '\u001F'
/**
 * `option`'s value, or when it is empty (or "0") `fallback`'s; tmux expands only the one it gives.
 * The bare `#{?option,…}` test costs tmux less than a comparison: a listing of 500 agents took
 * 3 ms less with it.
 */
const orElse = (option: string, fallback: string) => `#{?${option},#{${option}},#{${fallback}}}`
/**
 * Empty while the pane's program runs; once it ended, `STATUS:RECORDED`: tmux's exit status and
 * the one RECORD_EXIT stored, either of which may be missing. One field, not three: tmux spends
 * about as long on each field of a listing as on the next, and a live agent needs none of them.
 */
const ENDED = '#{?pane_dead,#{pane_dead_status}:#{@maestro-exit},}'

/** How the program of a pane that `ENDED` describes ended; undefined while it runs. */
function endedWith(ended: string): {code: number | null} | undefined {
  if (!ended) return undefined
  const colon = ended.indexOf(':')
  return {code: exitStatus(ended.slice(0, colon) || ended.slice(colon + 1))}
}

/** What a listing asks tmux for each agent, by the name its parser reads it under. */
const FIELDS = {
  name: '#{session_name}',
  created: '#{session_created}',
  activity: '#{window_activity}',
  attached: '#{session_attached}',
  ended: ENDED,
  command: orElse('@maestro-command', 'pane_current_command'),
  dir: orElse('@maestro-dir', 'pane_current_path'),
  report: '#{@maestro-report}',
  paneId: '#{pane_id}',
  worktree: '#{@maestro-worktree}',
}
/** Each field's place in a listed line. */
const AT = Object.fromEntries(Object.keys(FIELDS).map((name, index) => [name, index])) as Record<keyof typeof FIELDS, number>
const LIST_FORMAT = Object.values(FIELDS).join(SEP)
const LIST_FIELD_COUNT = Object.keys(FIELDS).length
// Record separator: ends each session's line in a snapshot that has no line breaks.
const RS = '\u001E'

/**
 * Sessions maestro makes for itself start with this; no agent name can, so listings leave them out.
 */
export const OWN_SESSION_PREFIX = '_maestro-'

/**
 * The one session every watcher's control client sits in (tmux tells a control client about
 * other sessions only while it is attached to one). Shared, so that a watcher coming or going
 * creates and ends no session: see CONTROL_CLIENT_CRASH.
 */
export const SEAT_SESSION = `${OWN_SESSION_PREFIX}seat`

/**
 * tmux before 3.7 ends its whole server (every agent with it) when a session is created, closed
 * or renamed, or a client detaches, while a control client is still connecting (tmux/tmux#4980,
 * fixed by tmux commit e5a2a25). maestro's own routine events therefore avoid those kinds: watchers
 * share SEAT_SESSION, and reports wake them with a window rename, which tmux sends only to
 * clients that have finished connecting.
 */
export const CONTROL_CLIENT_CRASH = 'tmux/tmux#4980'

/**
 * The format of a control client's subscription (`refresh-client -B`) that carries what
 * `listSessions` gives, for every session at once: tmux sends it again whenever it changes.
 */
export const SNAPSHOT_FORMAT = `#{S:#{P:${LIST_FORMAT}${RS}}}`

/**
 * The sessions in a SNAPSHOT_FORMAT value, or undefined when it is not one: a value in which
 * some field carried a line break arrives cut short, and the caller lists the sessions instead.
 */
export function parseSnapshot(value: string): SessionInfo[] | undefined {
  if (value !== '' && !value.endsWith(RS)) return undefined
  const lines = value.split(RS).slice(0, -1)
  if (lines.some((line) => line.split(SEP).length !== LIST_FIELD_COUNT)) return undefined
  return parseSessions(lines.join('\n'))
}

/**
 * The format of a control client's subscription that carries the size of every session's window:
 * tmux tells a control client of layout changes only in its own session, so this is how it hears
 * of a window resized because a client of another session attached, typed or resized.
 */
export const WINDOW_SIZES_FORMAT = `#{S:#{session_name}${SEP}#{window_width}x#{window_height}${RS}}`

/** Each session's window size (`COLSxROWS`) in a WINDOW_SIZES_FORMAT value, by session name. */
export function parseWindowSizes(value: string): Map<string, string> {
  return new Map(
    value
      .split(RS)
      .filter((record) => record.includes(SEP))
      .map((record) => record.split(SEP) as [string, string]),
  )
}

export const HISTORY_LIMIT = 50_000

function exitStatus(text: string): number | null {
  return text === '' ? null : Number(text)
}

/**
 * Runs the agent's command line, in the user's shell as tmux would, under a small sh that records
 * its exit status on the session itself: tmux 3.3 sometimes never learns a pane's exit status
 * (the child's exit and the end of its output race), and an agent that ended must still say how.
 * The command line is an argument of the script, never part of its text.
 * Job control (`set -m`) puts the program in a foreground process group of its own: Ctrl-C
 * reaches it and not this wrapper, and tmux names the pane after the program rather than "sh".
 * A shell whose foreground job died of Ctrl-C sends the same signal to itself; the trap lets it
 * live on to record the status. $TMUX and $TMUX_PANE are tmux's own and follow a rename.
 */
const RECORD_EXIT = [
  'set -m',
  'trap : INT QUIT',
  '"${SHELL:-/bin/sh}" -c "$1"',
  'status=$?',
  'tmux set-option -t "$TMUX_PANE" @maestro-exit "$status" 2>/dev/null',
  'exit "$status"',
].join('\n')

export function recordingExit(command: string): string[] {
  return ['sh', '-c', RECORD_EXIT, 'maestro-agent', command]
}

function parseSessionLine(line: string): SessionInfo {
  // By index: destructuring an array walks an iterator, which made parsing 500 agents' lines take
  // twice as long in a fresh process.
  const field = line.split(SEP)
  const ended = endedWith(field[AT.ended])
  return {
    name: field[AT.name],
    createdAt: new Date(Number(field[AT.created]) * 1000),
    lastActivityAt: new Date(Number(field[AT.activity]) * 1000),
    attachedClients: Number(field[AT.attached]) || 0,
    dead: ended !== undefined,
    exitCode: ended ? ended.code : null,
    command: field[AT.command],
    dir: field[AT.dir],
    report: field[AT.report],
    paneId: field[AT.paneId],
    worktree: field[AT.worktree] ?? '',
  }
}

/** A listing started before it was asked for (startListing): its server, and its output to come. */
let early: {socket: string; output: Promise<string | undefined>} | undefined

/**
 * Starts listing every session of a local server before the listing is asked for: `maestro ls`
 * has oclif load meanwhile, and with many agents tmux takes about as long to answer as oclif to
 * load. The next listSessions of the same server takes that answer, once.
 */
export function startListing(tmux: Tmux, dir: string): void {
  const output = tmux.early([['list-panes', '-a', '-F', LIST_FORMAT], ['display-message', '-p', LISTING_END]], dir)
  early = output && {socket: tmux.socket, output}
}

// The line after an early listing: without it, some of the listing was never written.
const LISTING_END = '\u001D'

/** The early listing of this server, taken once, when it came whole; undefined otherwise. */
async function takeEarlyListing(tmux: TmuxExec): Promise<string | undefined> {
  const taken = early
  if (!taken || !(tmux instanceof Tmux) || tmux.host !== null || tmux.socket !== taken.socket) return undefined
  early = undefined
  const output = await taken.output
  return output?.endsWith(`${LISTING_END}\n`) ? output.slice(0, -LISTING_END.length - 1) : undefined
}

/** Every session on the server, one tmux call whatever the count. No server means no agents. */
export async function listSessions(tmux: TmuxExec): Promise<SessionInfo[]> {
  const listed = await takeEarlyListing(tmux)
  if (listed !== undefined) return parseSessions(listed)
  let stdout: string
  try {
    ;({stdout} = await tmux.exec(['list-panes', '-a', '-F', LIST_FORMAT]))
  } catch (error) {
    if (error instanceof TmuxCommandError && isNoServer(error.stderr)) return []
    throw wrap(error)
  }
  return parseSessions(stdout)
}

function parseSessions(stdout: string): SessionInfo[] {
  const seen = new Set<string>()
  const sessions: SessionInfo[] = []
  // A user may split an agent's window; the agent is its first pane.
  for (const line of stdout.split('\n')) {
    if (!line) continue
    const info = parseSessionLine(line)
    if (seen.has(info.name) || info.name.startsWith(OWN_SESSION_PREFIX)) continue
    seen.add(info.name)
    sessions.push(info)
  }
  return sessions
}

/** A pane's visible screen, with the program running in it when it was read (e.g. `claude`, `bash`). */
export interface PaneScreen {
  text: string
  currentCommand: string
}

// Begins each screen in a reply that holds several: no screen line can hold the unit separator.
const SCREEN_MARK = `${SEP}maestro-screen${SEP}`

/** Prints SCREEN_MARK, `label`, the pane's current program and its screen, for `parseScreen`. */
function screenCommands(pane: string, label: string): string[][] {
  return [
    ['display-message', '-p', '-t', pane, `${SCREEN_MARK}${formatLiteral(label)}${SEP}#{pane_current_command}`],
    ['capture-pane', '-p', '-t', pane],
  ]
}

/** `label`, and the screen, of one block of output after a SCREEN_MARK. */
function parseScreen(block: string): [string, PaneScreen] {
  const newline = block.indexOf('\n')
  const [label, currentCommand] = block.slice(0, newline).split(SEP)
  return [label, {currentCommand, text: block.slice(newline + 1)}]
}

/**
 * One agent's session and its visible screen, in one tmux call whatever the number of agents;
 * undefined when there is no such session. The agent is named, or given by its pane (`%12`, as in
 * $TMUX_PANE), which finds it under the name it has now.
 */
export async function readSession(tmux: Tmux, agent: {name: string} | {pane: string}): Promise<{session: SessionInfo; screen: PaneScreen} | undefined> {
  const [session, pane] = 'pane' in agent ? [agent.pane, agent.pane] : [exact(agent.name), exactPane(agent.name)]
  let stdout: string
  try {
    ;({stdout} = await tmux.exec([['list-panes', '-s', '-t', session, '-F', LIST_FORMAT], ...screenCommands(pane, '')]))
  } catch (error) {
    if (isMissing(error)) return undefined
    throw wrap(error)
  }
  const at = stdout.indexOf(SCREEN_MARK)
  const [found] = parseSessions(stdout.slice(0, at))
  return found && {session: found, screen: parseScreen(stdout.slice(at + SCREEN_MARK.length))[1]}
}

/**
 * Whether the session exists, as tmux says. A tmux that could not run (out of file descriptors,
 * say) says nothing about the agent: that is TMUX_FAILED, not "no such agent", which would make
 * the page give the agent up for good.
 */
export async function hasSession(tmux: Tmux, name: string): Promise<boolean> {
  try {
    await tmux.exec(['has-session', '-t', exact(name)])
    return true
  } catch (error) {
    if (isMissing(error)) return false
    throw wrap(error)
  }
}

export interface NewSessionOptions {
  name: string
  dir: string
  /** A shell command line; without one tmux starts the user's shell. */
  command?: string
  /** More user options (`@maestro-…`) to set on the session in the same call. */
  options?: Record<string, string>
  /** Record the pane from its first output on; the file is named after the agent's id, which a rename keeps. */
  recording?: {dir: string; limitBytes: number}
}

/**
 * Starts an agent's session. The pane options are set server-wide in the same tmux call, before
 * the pane exists: history-limit only applies to panes created after it, and a command that exits
 * at once would otherwise take its session (and its last screen) with it before a later call ran.
 * This is maestro's own server, so these defaults touch no session of the user's. Returns the
 * agent's id (AGENT_ID_VARIABLE).
 */
export async function newSession(tmux: Tmux, options: NewSessionOptions): Promise<string> {
  const {name, dir, command} = options
  const agentId = randomUUID()
  const commands = [
    ['set-option', '-g', 'history-limit', String(HISTORY_LIMIT)],
    ['set-option', '-g', 'mouse', 'off'],
    ['set-option', '-gw', 'remain-on-exit', 'on'],
    // No status bar: the page has its own header, and a bar inside every terminal cut names
    // short. A terminal that `maestro attach` took over shows the agent's name in its title.
    ['set-option', '-g', 'status', 'off'],
    ['set-option', '-g', 'set-titles', 'on'],
    ['set-option', '-g', 'set-titles-string', 'maestro: #{session_name}'],
    // 24-bit colour: the agents are told so, and tmux passes RGB on to xterm-like clients (the
    // page's terminal is one) instead of rounding it to 256 colours. A fixed index keeps this idempotent.
    ['set-option', '-s', 'terminal-features[90]', 'xterm*:RGB'],
    ['new-session', '-d', '-s', formatLiteral(name), '-c', formatLiteral(dir), '-e', `MAESTRO_AGENT=${name}`, '-e', `${AGENT_ID_VARIABLE}=${agentId}`, '-e', `MAESTRO_TMUX_SOCKET=${tmux.socket}`, '-e', 'COLORTERM=truecolor', ...(command ? recordingExit(command) : [])],
    ['set-option', '-t', exactPane(name), '@maestro-dir', dir],
    ['set-option', '-t', exactPane(name), '@maestro-command', command ?? ''],
    ...Object.entries(options.options ?? {}).map(([option, value]) => ['set-option', '-t', exactPane(name), option, value]),
    // In the same call as new-session: tmux reads the pane's first output only after the call.
    ...(options.recording ? [recordPaneCommand(name, agentId, {file: recordingFile(options.recording.dir, agentId), limitBytes: options.recording.limitBytes})] : []),
  ]
  try {
    await tmux.exec(commands)
    return agentId
  } catch (error) {
    if (error instanceof TmuxCommandError && /duplicate session/.test(error.stderr)) {
      throw new MaestroError('AGENT_EXISTS', `agent "${name}" already exists (pick another name, or maestro kill ${name})`, {name})
    }
    throw wrap(error)
  }
}

/**
 * Every process the agent starts inherits this id; unlike the session name it survives renames,
 * so a kill can find the agent's daemons and setsid/nohup children by their environment.
 */
export const AGENT_ID_VARIABLE = 'MAESTRO_AGENT_ID'

/** The pane's first process and the agent's id (empty for agents started before ids existed). */
export async function agentProcessRoot(tmux: Tmux, name: string): Promise<{panePid: number; agentId: string}> {
  const {stdout} = await runOnAgent(tmux, name, [
    ['display-message', '-p', '-t', exactPane(name), '#{pane_pid}'],
    ['show-environment', '-t', exact(name)],
  ])
  const [pid, ...environment] = stdout.split('\n')
  const prefix = `${AGENT_ID_VARIABLE}=`
  const agentId = environment.find((line) => line.startsWith(prefix))?.slice(prefix.length) ?? ''
  return {panePid: Number(pid) || 0, agentId}
}

/**
 * Runs an exited agent's program again in its pane: same command line (tmux keeps the pane's
 * argv), directory, environment and session options (its worktree record among them). tmux
 * itself refuses a pane that still runs, so a program starting meanwhile is never killed.
 * The old exit status and report are dropped in the same command group, before the new program
 * can record its own.
 */
export async function respawnSession(tmux: Tmux, name: string, dir: string): Promise<void> {
  const pane = exactPane(name)
  try {
    await tmux.exec([
      ['respawn-pane', '-t', pane, '-c', formatLiteral(dir)],
      ['set-option', '-u', '-t', pane, '@maestro-exit'],
      ['set-option', '-u', '-t', pane, '@maestro-report'],
    ])
  } catch (error) {
    if (error instanceof TmuxCommandError && /still active/.test(error.stderr)) {
      throw new MaestroError('AGENT_RUNNING', `agent "${name}" is still running (only an exited agent can be restarted)`, {name})
    }
    throw notFoundOr(error, name)
  }
}

export async function killSession(tmux: Tmux, name: string): Promise<void> {
  await runOnAgent(tmux, name, ['kill-session', '-t', exact(name)])
}

export async function renameSession(tmux: Tmux, from: string, to: string): Promise<void> {
  try {
    await tmux.exec(['rename-session', '-t', exact(from), formatLiteral(to)])
  } catch (error) {
    if (error instanceof TmuxCommandError && /duplicate session/.test(error.stderr)) {
      throw new MaestroError('AGENT_EXISTS', `agent "${to}" already exists (pick another name)`, {name: to})
    }
    throw notFoundOr(error, from)
  }
}

export interface SendOptions {
  /** Pasted as one piece; empty sends nothing before the keys. */
  text: string
  /** tmux key names (see shared/keys.ts), pressed in order after the text. */
  keys: string[]
}

/** How long the screen must stay still after a paste before Enter counts as a separate key. */
const SETTLE_MS = 200
/** A screen that never settles (a spinner, a clock) gets its Enter after this long. */
const SETTLE_LIMIT_MS = 3000
const POLL_MS = 25

let buffers = 0

/**
 * Pastes the text, then presses the keys. The text goes through a tmux paste buffer, so a
 * program that asked for bracketed paste sees one paste rather than keystrokes. Some programs
 * (Codex) still read an Enter that arrives within ~120 ms of pasted text as a newline inside
 * the prompt: before the first key, this waits until the screen has shown the paste and then
 * stayed still for SETTLE_MS, i.e. until the program has taken the text.
 */
export async function sendInput(tmux: Tmux, name: string, options: SendOptions): Promise<void> {
  const pane = exactPane(name)
  // tmux accepts keys for a dead pane and drops them: say so rather than report success. The
  // screen before the paste comes in the same call.
  const {stdout} = await runOnAgent(tmux, name, [
    ['display-message', '-p', '-t', pane, ENDED],
    ['capture-pane', '-p', '-t', pane],
  ])
  const newline = stdout.indexOf('\n')
  const ended = endedWith(stdout.slice(0, newline))
  if (ended) {
    const code = ended.code ?? '?'
    throw new MaestroError('AGENT_EXITED', `agent "${name}" has exited (code ${code}); nothing was sent (maestro capture ${name} shows its last output)`, {name})
  }
  if (options.text) {
    const before = stdout.slice(newline + 1)
    const buffer = `maestro-send-${process.pid}-${++buffers}`
    // -d drops the buffer once pasted; -p brackets the paste when the program asked for that.
    await runOnAgent(tmux, name, [['load-buffer', '-b', buffer, '-'], ['paste-buffer', '-d', '-p', '-b', buffer, '-t', pane]], {input: options.text})
    if (options.keys.length > 0) await settled(tmux, name, before)
  }
  if (options.keys.length > 0) await runOnAgent(tmux, name, ['send-keys', '-t', pane, ...options.keys])
}

function screen(tmux: Tmux, name: string): Promise<string> {
  return runOnAgent(tmux, name, ['capture-pane', '-p', '-t', exactPane(name)]).then(({stdout}) => stdout)
}

/** Resolves once the screen differs from `before` and has not changed for SETTLE_MS. */
async function settled(tmux: Tmux, name: string, before: string): Promise<void> {
  const deadline = Date.now() + SETTLE_LIMIT_MS
  let last = before
  let stillSince = Date.now()
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
    const now = await screen(tmux, name)
    if (now !== last) {
      last = now
      stillSince = Date.now()
    } else if (last !== before && Date.now() - stillSince >= SETTLE_MS) {
      return
    }
  }
}

/** The agent's scrollback as plain text, wrapped lines joined; `lines` keeps only the last N. */
export async function captureScrollback(tmux: Tmux, name: string, options: {lines?: number} = {}): Promise<string> {
  const start = options.lines === undefined ? '-' : String(-options.lines)
  const {stdout} = await runOnAgent(tmux, name, ['capture-pane', '-p', '-J', '-t', exactPane(name), '-S', start, '-E', '-'])
  const text = stdout.replace(/\s+$/, '')
  if (options.lines === undefined) return text ? `${text}\n` : ''
  const kept = text.split('\n').slice(-options.lines).join('\n')
  return kept ? `${kept}\n` : ''
}

/**
 * The visible screens of several agents in one tmux call, so reading them costs the same
 * whatever their number. A session that vanished meanwhile fails the whole chain; callers
 * then read no screens this time rather than guess.
 */
export async function captureScreens(tmux: TmuxExec, names: string[]): Promise<Map<string, PaneScreen>> {
  const screens = new Map<string, PaneScreen>()
  if (names.length === 0) return screens
  let stdout: string
  try {
    ;({stdout} = await tmux.exec(names.flatMap((name) => screenCommands(exactPane(name), name))))
  } catch (error) {
    if (error instanceof TmuxCommandError) return screens
    throw error
  }
  for (const block of stdout.split(SCREEN_MARK).slice(1)) screens.set(...parseScreen(block))
  return screens
}

/**
 * Tells every watcher (their control clients) at once that something changed which tmux does not
 * announce by itself, such as a report: renaming the seat's window makes tmux send
 * `%window-renamed` to every control client. Nothing to wake when no seat exists; asking tmux
 * with a format, rather than letting the rename fail, keeps the call's other commands' errors
 * the only ones.
 */
export function wakeWatchersCommands(): string[][] {
  const seatExists = `#{m:*1*,#{S:#{==:#{session_name},${SEAT_SESSION}}}}`
  return [['if-shell', '-F', seatExists, commandLine(['rename-window', '-t', `${exact(SEAT_SESSION)}:`, 'wake'])]]
}

/** Sets user options on several agents in one call (`values` maps agent → option → value), then runs `then` in it. */
export async function setAgentOptions(tmux: Tmux, values: Map<string, Record<string, string>>, then: string[][] = []): Promise<void> {
  const commands = [...values].flatMap(([name, options]) =>
    Object.entries(options).map(([option, value]) => ['set-option', '-t', exactPane(name), option, value]),
  )
  if (commands.length === 0) return
  try {
    await tmux.exec([...commands, ...then])
  } catch (error) {
    throw notFoundOr(error, [...values.keys()].join(', '))
  }
}

/**
 * The size a new client must have to leave the agent's window as it is: the window plus tmux's
 * status lines. A client attached with ignore-size still sizes the window when it is alone.
 */
export async function fittingClientSize(tmux: Tmux, name: string): Promise<{cols: number; rows: number}> {
  const {stdout} = await runOnAgent(tmux, name, ['display-message', '-p', '-t', exactPane(name), '#{window_width} #{window_height} #{status}'])
  const [cols, rows, status] = stdout.trim().split(' ')
  const statusLines = status === 'off' ? 0 : status === 'on' ? 1 : Number(status) || 0
  return {cols: Number(cols), rows: Number(rows) + statusLines}
}

/**
 * The last `lines` lines of the agent's history above its visible screen, with their colours
 * and wrapped lines joined, for a viewer to hold as scrollback before tmux draws the screen.
 */
export async function captureHistory(tmux: Tmux, name: string, lines: number): Promise<string> {
  const {stdout: size} = await runOnAgent(tmux, name, ['display-message', '-p', '-t', exactPane(name), '#{history_size}'])
  const available = Math.min(lines, Number(size.trim()) || 0)
  // With no history, tmux would clamp the range onto the visible screen.
  if (available === 0) return ''
  const {stdout} = await runOnAgent(tmux, name, ['capture-pane', '-p', '-e', '-J', '-t', exactPane(name), '-S', String(-available), '-E', '-1'])
  return stdout
}

/** `tmux 3.3a` → 3.3; tmux answers -V without touching any server. */
export async function tmuxVersion(tmux: Tmux): Promise<{text: string; number: number}> {
  const {stdout} = await tmux.exec(['-V']).catch((error) => {
    throw wrap(error)
  })
  const text = stdout.trim()
  return {text, number: Number(/(\d+\.\d+)/.exec(text)?.[1] ?? 0)}
}

async function runOnAgent(tmux: Tmux, name: string, args: string[] | string[][], options: {input?: string} = {}) {
  try {
    return await tmux.exec(args, options)
  } catch (error) {
    throw notFoundOr(error, name)
  }
}

function notFoundOr(error: unknown, name: string): Error {
  return isMissing(error) ? agentNotFound(name) : wrap(error)
}

/** Whether tmux answered that the session (or its pane or window, or the whole server) is not there. */
function isMissing(error: unknown): boolean {
  return error instanceof TmuxCommandError && (isNoServer(error.stderr) || /can't find (session|pane|window)/.test(error.stderr))
}

function wrap(error: unknown): Error {
  if (error instanceof TmuxCommandError) return new MaestroError('TMUX_FAILED', `tmux refused: ${error.stderr}`)
  return error as Error
}
