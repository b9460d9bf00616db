/**
 * The wire protocol between the page and `maestro serve`, shared by both sides so they cannot
 * drift. HTTP API (JSON; errors are `{error: {code, message, ...details}}` with the CLI's codes):
 *
 *   GET    /api/session                  → SessionInfo
 *   GET    /api/agents                   → Agent[]            (same shape as `maestro ls --json`)
 *   POST   /api/agents                   {name, dir?, cmd?, note?} → 201 Agent
 *   DELETE /api/agents/:name             → {name, archive}     (archives like `maestro kill`)
 *   (:name is an agent id: `NAME` here, `HOST:NAME` on a remote host, URL-encoded)
 *   POST   /api/agents/:name/rename      {name} → Agent
 *   GET    /api/agents/:name/note        → Note {text, revision, updatedAt}
 *   PUT    /api/agents/:name/note        {text, revision} → Note; 409 {error: {code: NOTE_CONFLICT, current: Note}}
 *   GET    /api/archives                 → ArchiveEntry[]     (same shape as `maestro archive ls --json`)
 *   GET    /api/archives/:name/:id       → ArchiveContents    (same shape as `maestro archive show --json`)
 *   GET    /api/archives/:name/:id/recording → the asciicast v2 file itself (application/x-asciicast)
 *   (a share link gets 403 FORBIDDEN for every /api/archives request)
 *
 * WebSockets:
 *   /api/events                                  server → client text frames: ServerEvent
 *   /api/agents/:name/terminal?cols=C&rows=R[&history=1]
 *                                                server → client: binary frames of terminal output,
 *                                                and text frames of TerminalNotice (with history=1,
 *                                                a `history` notice comes before any output);
 *                                                client → server: text frames of ClientMessage, among
 *                                                them `ack`s of the output written (see OUTPUT_WINDOW_BYTES)
 *
 * Every request needs the session cookie (set when the page is opened with ?token=) or
 * `Authorization: Bearer <token>`; POST, PUT, DELETE and every upgrade also need an `Origin`
 * equal to the page's own. Bodies are `application/json`. See SECURITY.md for the refusals.
 */
import type {Agent, HostState} from './agent.js'

export interface SessionInfo {
  readonly: boolean
  version: string
  /** Present when the page was opened with a share link: what it may see and until when. */
  grant?: {id: string; role: 'viewer' | 'operator'; agents: string[]; label?: string; expiresAt: string}
  /** Writes the server could not make (a full or unwritable config or state directory). */
  storage: {failures: number; last: string | null}
}

/**
 * What keeps the server from doing its whole job: writes that failed (a full or unwritable config
 * or state directory), and a notes file that cannot be read (its NOTES_CORRUPT message), or null.
 */
export interface Health {
  storage: {failures: number; last: string | null}
  notes: string | null
}

/**
 * agents: every agent (ids `HOST:NAME` on remote hosts) and the state of each remote host (an
 * unreachable host's agents are listed as last seen); renamed: an agent got a new id (anywhere),
 * sent before the list that shows it; its terminals stay open.
 * health: sent on connect and whenever it changes, to the server's owner only (not to share links).
 */
export type ServerEvent = {type: 'agents'; agents: Agent[]; hosts: HostState[]} | {type: 'renamed'; from: string; to: string} | {type: 'health'; health: Health}

/** An agent's note as the API gives it; `revision` guards an edit against a concurrent one. */
export interface Note {
  text: string
  revision: number
  updatedAt: string | null
}

/** One archive of a killed agent, as `archive ls` lists it. */
export interface ArchiveEntry {
  /** The agent's id when it was killed (`HOST:NAME` for a remote host's). */
  name: string
  /** The archive's folder name, a timestamp: what `--at` takes. */
  id: string
  killedAt: string
  path: string
  dir: string | null
  command: string | null
  /** Bytes of every file in the archive. */
  size: number
  /** Whether it holds recording.cast, for `maestro replay`. */
  recording: boolean
}

/** The bodies of the API's requests, and the answers that are not an Agent or a Note. */
export interface CreateAgentRequest {
  name: string
  dir?: string
  cmd?: string
  note?: string
}
export interface RenameRequest {
  name: string
}
export interface NoteUpdate {
  text: string
  revision: number
}
export interface KillResult {
  name: string
  archive: string
  worktree: {kept: boolean; path: string; branch: string; summary: string} | null
}
/** A share link's grant as the API lists it (never its token). */
export interface Share {
  id: string
  agents: string[]
  role: 'viewer' | 'operator'
  label?: string
  createdAt: string
  expiresAt: string
}
export interface ShareRequest {
  agents: string[]
  role?: Share['role']
  expires?: string
  label?: string
}
/** The new link's token appears here once and is never kept by the server. */
export interface ShareCreated {
  grant: Share
  token: string
}

/**
 * exit: the agent's program ended, its pane stays (then the socket closes with 4000); gone: the
 * agent's session no longer exists, killed or renamed where the viewer could not follow (then the
 * socket closes with 4004): the page learns it here as soon as the server does, before the next
 * list of agents; error: the viewer cannot go on;
 * size: the agent's window has this size, which differs from the viewer's own (the window
 * follows the viewer that typed or resized last, tmux `window-size latest`): draw the terminal at
 * this size, scaled to fit, so that nothing is cropped. Sent first to a read-only viewer and to a
 * viewer that joins others (neither takes the window over by opening), then whenever the window
 * changes. A viewer that types sends its own size first, which makes the window its own again;
 * history: the agent's earlier lines (`capture-pane -e`, one per line), sent once, before any
 * output, to a socket opened with `history=1`: the page puts them in its scrollback.
 */
export type TerminalNotice =
  | {type: 'exit'; code: number | null}
  | {type: 'gone'}
  | {type: 'error'; code: string; message: string}
  | {type: 'size'; cols: number; rows: number}
  | {type: 'history'; data: string}

/** ack: the page has written this many more bytes of the output it received (flow control). */
export type ClientMessage = {type: 'input'; data: string} | {type: 'resize'; cols: number; rows: number} | {type: 'ack'; bytes: number}

/**
 * Flow control: the server stops reading a viewer's tmux client (tmux then holds that client
 * back alone) once this much of the output it sent is not acknowledged, and reads again when
 * acknowledgements bring it under a quarter of that. A page acknowledges what its terminal has
 * written, so a slow browser, not only a slow network, holds back its own viewer, and the
 * server's memory per viewer stays bounded.
 */
export const OUTPUT_WINDOW_BYTES = 512 * 1024
/** A page acknowledges at least this often (in bytes written): well under a quarter of the window. */
export const ACK_EVERY_BYTES = 32 * 1024

/** Close codes the terminal socket uses besides the standard ones. */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  policy: 1008,
  tooBig: 1009,
  agentExited: 4000,
  /** The share link the socket was opened with was revoked or has expired. */
  grantEnded: 4003,
  agentNotFound: 4004,
  slowConsumer: 4008,
} as const

/** The most one input message may carry, in UTF-8 bytes (what reaches the agent), not characters. */
export const MAX_INPUT_BYTES = 64 * 1024
const MAX_DIMENSION = 1000

/** The UTF-8 length of a string; a lone surrogate counts as the 3 bytes of U+FFFD, as it is encoded. */
export function utf8Length(text: string): number {
  let bytes = 0
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i)
    if (unit < 0x80) bytes += 1
    else if (unit < 0x800) bytes += 2
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4
      i++
    } else bytes += 3
  }
  return bytes
}

export function isValidSize(cols: number, rows: number): boolean {
  return Number.isInteger(cols) && Number.isInteger(rows) && cols >= 2 && rows >= 1 && cols <= MAX_DIMENSION && rows <= MAX_DIMENSION
}

/** Returns the message, or undefined for anything malformed: such frames are dropped, never typed. */
export function parseClientMessage(raw: string): ClientMessage | undefined {
  let value: unknown
  try {
    value = JSON.parse(raw)
  } catch {
    return undefined
  }
  if (typeof value !== 'object' || value === null) return undefined
  const message = value as Record<string, unknown>
  if (message.type === 'input' && typeof message.data === 'string' && utf8Length(message.data) <= MAX_INPUT_BYTES) {
    return {type: 'input', data: message.data}
  }
  if (message.type === 'ack' && Number.isSafeInteger(message.bytes) && (message.bytes as number) > 0) {
    return {type: 'ack', bytes: message.bytes as number}
  }
  if (message.type === 'resize' && typeof message.cols === 'number' && typeof message.rows === 'number' && isValidSize(message.cols, message.rows)) {
    return {type: 'resize', cols: message.cols, rows: message.rows}
  }
  return undefined
}

/**
 * Codes of the server's own refusals, in the same `{error: {code, message}}` shape as the CLI's
 * codes: 401 UNAUTHORIZED, 403 FORBIDDEN_HOST / FORBIDDEN_ORIGIN / READ_ONLY, 429 RATE_LIMITED
 * (with Retry-After), 503 TOO_MANY_CLIENTS, and the 4xx of a malformed request.
 */
export type RefusalCode =
  | 'BAD_REQUEST'
  | 'CROSS_SITE'
  | 'FORBIDDEN'
  | 'FORBIDDEN_HOST'
  | 'FORBIDDEN_ORIGIN'
  | 'METHOD_NOT_ALLOWED'
  | 'NOT_FOUND'
  | 'PAYLOAD_TOO_LARGE'
  | 'RATE_LIMITED'
  | 'READ_ONLY'
  | 'TOO_MANY_CLIENTS'
  | 'UNAUTHORIZED'
  | 'UNSUPPORTED_MEDIA_TYPE'

export interface ApiError {
  error: {code: string; message: string; [detail: string]: unknown}
}
