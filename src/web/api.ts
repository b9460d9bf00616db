import type {Agent, AgentChanges} from '../shared/agent.js'
import type {ApiError as ApiErrorBody, ArchiveEntry, CreateAgentRequest, KillResult, Note, NoteUpdate, RenameRequest, SessionInfo, Share, ShareCreated, ShareRequest} from '../shared/protocol.js'

/** An API failure carrying the server's stable code and message (the CLI's wording). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message)
  }
}

async function request<T>(method: string, path: string, body?: unknown, keepalive = false): Promise<T> {
  return (await respond(method, path, body, keepalive)).json().catch(() => undefined) as Promise<T>
}

/** A successful response, or the server's error as an ApiError. */
async function respond(method: string, path: string, body?: unknown, keepalive = false): Promise<Response> {
  let response: Response
  try {
    response = await fetch(path, {
      method,
      // The session cookie is HttpOnly and same-origin: the browser attaches it, the page never sees it.
      credentials: 'same-origin',
      headers: body === undefined ? {} : {'content-type': 'application/json'},
      body: body === undefined ? undefined : JSON.stringify(body),
      keepalive,
    })
  } catch {
    throw new ApiError(0, 'NETWORK', 'the server cannot be reached')
  }
  if (!response.ok) {
    const payload = await response.json().catch(() => undefined)
    const error: Partial<ApiErrorBody['error']> = (payload as Partial<ApiErrorBody> | undefined)?.error ?? {}
    const {code = `HTTP_${response.status}`, message = `the server answered ${response.status}`, ...details} = error
    throw new ApiError(response.status, code, message, details)
  }
  return response
}

const agentPath = (name: string) => `/api/agents/${encodeURIComponent(name)}`

export const api = {
  session: () => request<SessionInfo>('GET', '/api/session'),
  agents: () => request<Agent[]>('GET', '/api/agents'),
  create: (body: CreateAgentRequest) => request<Agent>('POST', '/api/agents', body),
  kill: (name: string) => request<KillResult>('DELETE', agentPath(name)),
  rename: (name: string, to: string) => request<Agent>('POST', `${agentPath(name)}/rename`, {name: to} satisfies RenameRequest),
  restart: (name: string) => request<Agent>('POST', `${agentPath(name)}/restart`),
  note: (name: string) => request<Note>('GET', `${agentPath(name)}/note`),
  changes: (name: string) => request<AgentChanges>('GET', `${agentPath(name)}/changes`),
  /** `keepalive` lets a save started while the page unloads still reach the server. */
  saveNote: (name: string, text: string, revision: number, keepalive = false) =>
    request<Note>('PUT', `${agentPath(name)}/note`, {text, revision} satisfies NoteUpdate, keepalive),
  shares: () => request<Share[]>('GET', '/api/shares'),
  share: (body: ShareRequest) => request<ShareCreated>('POST', '/api/shares', body),
  revokeShare: (id: string) => request<Share>('DELETE', `/api/shares/${encodeURIComponent(id)}`),
  archives: () => request<ArchiveEntry[]>('GET', '/api/archives'),
  /** The asciicast text of an archive's recording.cast. */
  recording: async (entry: {name: string; id: string}) =>
    (await respond('GET', `/api/archives/${encodeURIComponent(entry.name)}/${encodeURIComponent(entry.id)}/recording`)).text(),
}

/** The WebSocket URL for a same-origin path; the browser sends the cookie and the page's Origin. */
export function socketUrl(path: string): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path}`
}

/** `history`: the agent's earlier lines come first, in a `history` notice. */
export function terminalPath(name: string, cols: number, rows: number, history: boolean): string {
  return `${agentPath(name)}/terminal?cols=${cols}&rows=${rows}${history ? '&history=1' : ''}`
}
