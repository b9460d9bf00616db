/**
 * The wire protocol between the page and `maestro serve`, shared by both sides so they cannot
 * drift. HTTP API (JSON; errors are `{error: {code, message, ...details}}` with the CLI's codes):
 *
 *   GET    /api/session                  → SessionInfo
 *   GET    /api/agents                   → Agent[]            (same shape as `maestro ls --json`)
 *   POST   /api/agents                   {name, dir?, cmd?, note?} → 201 Agent
 *   DELETE /api/agents/:name             → {name, archive}     (archives like `maestro kill`)
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
 *   /api/agents/:name/terminal?cols=C&rows=R     server → client: binary frames of terminal output,
 *                                                and text frames of TerminalNotice;
 *                                                client → server: text frames of ClientMessage
 *
 * Every request needs the session cookie (set when the page is opened with ?token=) or
 * `Authorization: Bearer <token>`; POST, PUT, DELETE and every upgrade also need an `Origin`
 * equal to the page's own. Bodies are `application/json`. See SECURITY.md for the refusals.
 */
import type {Agent} from './agent.js'

export interface SessionInfo {
  readonly: boolean
  version: string
  /** Present when the page was opened with a share link: what it may see and until when. */
  grant?: {id: string; role: 'viewer' | 'operator'; agents: string[]; label?: string; expiresAt: string}
  /** Writes the server could not make (a full or unwritable config or state directory). */
  storage: {failures: number; last: string | null}
}

/** renamed: an agent got a new name (anywhere), sent before the list that shows it; its terminals stay open. */
export type ServerEvent = {type: 'agents'; agents: Agent[]} | {type: 'renamed'; from: string; to: string}

/**
 * exit: the agent ended (then the socket closes with 4000); error: the viewer cannot go on;
 * size: sent first to a read-only viewer, whose tmux client is given the window's size rather
 * than the one asked for (so that it cannot resize the window): draw the terminal at this size.
 */
export type TerminalNotice =
  | {type: 'exit'; code: number | null}
  | {type: 'error'; code: string; message: string}
  | {type: 'size'; cols: number; rows: number}

export type ClientMessage = {type: 'input'; data: string} | {type: 'resize'; cols: number; rows: number}

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

export const MAX_INPUT_BYTES = 64 * 1024
const MAX_DIMENSION = 1000

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
  if (message.type === 'input' && typeof message.data === 'string' && message.data.length <= MAX_INPUT_BYTES) {
    return {type: 'input', data: message.data}
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
