import {readFile} from 'node:fs/promises'
import type {IncomingMessage, ServerResponse} from 'node:http'

import type {Context} from '../context.js'
import {agentChanges, archiveLeftovers, createAgent, getAgentNote, killAgent, restartAgent, setAgentNote} from '../agents.js'
import {listEveryAgent, locateAgent, renameAgentId} from '../hosts.js'
import {type ErrorCode, MaestroError, agentNotFound, storageFailure} from '../shared/errors.js'
import type {KillResult, Note, SessionInfo, Share, ShareCreated} from '../shared/protocol.js'
import {archivedRecording, listArchives, readArchive} from '../store/archive-list.js'
import {MAX_NOTE_BYTES} from '../store/notes.js'
import type {Tmux} from '../tmux/client.js'
import {shareAgents} from '../shares.js'
import type {Agent} from '../shared/agent.js'
import {type Grant, assertRole, listGrants, revokeGrants} from '../store/grants.js'
import type {StorageFailures} from '../store/failures.js'
import type {AuditLog} from './audit.js'
import type {Identity} from './auth.js'
import {send, sendError, sendJson} from './respond.js'

/** This process's context (directories, how hosts are reached, the environment), and the server's own parts. */
export interface ApiContext extends Context {
  tmux: Tmux
  readonly: boolean
  version: string
  audit: AuditLog
  storage: StorageFailures
  /** Called after every change, so that listeners hear of it before the next poll. */
  changed(): void
  renamed(from: string, to: string): void
  /** Called after a revoke, rename or kill through the API, so grants change before the answer, not on the next poll. */
  sharesChanged(): Promise<void>
}

/**
 * Notes are the largest body the API takes: room for the largest note even with every byte
 * escaped in JSON (`\u00XX`), and still a cap against a memory flood.
 */
export const MAX_BODY_BYTES = 6 * MAX_NOTE_BYTES + 64 * 1024

const STATUS: Partial<Record<ErrorCode, number>> = {
  AGENT_EXISTS: 409,
  AGENT_RUNNING: 409,
  AGENT_NOT_FOUND: 404,
  ARCHIVE_NOT_FOUND: 404,
  RECORDING_NOT_FOUND: 404,
  GRANT_NOT_FOUND: 404,
  HOST_NOT_FOUND: 404,
  HOST_UNREACHABLE: 502,
  DIR_NOT_FOUND: 400,
  INVALID_ARGUMENT: 400,
  INVALID_NAME: 400,
  NOTE_CONFLICT: 409,
  NO_WORKTREE: 409,
  WORKTREE_NOT_FOUND: 404,
  NOTE_TOO_LARGE: 413,
  NOTES_CORRUPT: 503,
  NOTES_LOCKED: 423,
  STORAGE_FAILED: 507,
  STORE_LOCKED: 503,
}

/** A refusal that ends a request with a 4xx, thrown from deep in the handling of a request. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

/** `:name` in an agent's path is its id: `NAME` here, `HOST:NAME` on a remote host. */
type Route = (context: ApiContext, request: IncomingMessage, address: string, name?: string, id?: string) => Promise<[number, unknown]>

/** An answer sent as it is rather than as JSON: a file the page reads, such as a recording. */
class RawBody {
  constructor(
    readonly data: Buffer,
    readonly type: string,
  ) {}
}

/** The tmux server an agent id names, and the agent's name on it. */
function at(context: ApiContext, id: string | undefined): Promise<{tmux: Tmux; name: string}> {
  return locateAgent(context.tmux, context, id!)
}

const routes: Record<string, Route> = {
  'GET /api/session': async (context) => [200, {readonly: context.readonly, version: context.version, storage: context.storage.health} satisfies SessionInfo],
  // A host that does not answer is left out, as in `maestro ls`; the event stream marks it.
  'GET /api/agents': async (context) => [200, (await listEveryAgent(context.tmux, context)).agents],
  'POST /api/agents': async (context, request, address) => {
    const body = await readJson(request)
    const {tmux, name} = await at(context, field(body, 'name', 'string', true))
    const agent = await createAgent(tmux, context, {
      name,
      dir: field(body, 'dir', 'string'),
      command: field(body, 'cmd', 'string'),
      note: field(body, 'note', 'string'),
    })
    context.audit.write('agent_create', {address, name: agent.id})
    return [201, agent]
  },
  'DELETE /api/agents/:name': async (context, _request, address, id) => {
    const {tmux, name} = await at(context, id)
    const killed = await killAgent(tmux, context, name)
    await context.sharesChanged()
    context.audit.write('agent_kill', {address, name: killed.id})
    return [200, killed satisfies KillResult]
  },
  'POST /api/agents/:name/rename': async (context, request, address, id) => {
    const to = field(await readJson(request), 'name', 'string', true)
    const agent = await renameAgentId(context.tmux, context, id!, to)
    context.audit.write('agent_rename', {address, from: id, to: agent.id})
    context.renamed(id!, agent.id)
    await context.sharesChanged()
    return [200, agent]
  },
  'POST /api/agents/:name/restart': async (context, _request, address, id) => {
    const {tmux, name} = await at(context, id)
    const agent = await restartAgent(tmux, context, name)
    context.audit.write('agent_restart', {address, name: agent.id})
    return [200, agent]
  },
  'GET /api/agents/:name/changes': async (context, _request, _address, id) => {
    const {tmux, name} = await at(context, id)
    return [200, await agentChanges(tmux, context, name)]
  },
  'GET /api/archives': async (context) => {
    await archiveLeftovers(context.tmux, context)
    return [200, await listArchives(context)]
  },
  'GET /api/archives/:name/:id': async (context, _request, _address, name, id) => [200, await readArchive(context, name!, id!)],
  'GET /api/archives/:name/:id/recording': async (context, _request, _address, name, id) => {
    const {path} = await archivedRecording(context, name!, id!)
    return [200, new RawBody(await readFile(path), 'application/x-asciicast; charset=utf-8')]
  },
  'GET /api/shares': async (context) => [200, (await listGrants(context)) satisfies Share[]],
  'POST /api/shares': async (context, request, address) => {
    const body = await readJson(request)
    const agents = body.agents
    if (!Array.isArray(agents) || agents.length === 0 || !agents.every((agent) => typeof agent === 'string')) {
      throw new Refusal(400, 'INVALID_ARGUMENT', '"agents" must be a list of agent names')
    }
    const role = field(body, 'role', 'string') ?? 'viewer'
    assertRole(role)
    const created = await shareAgents(context.tmux, context, {agents, role, expires: field(body, 'expires', 'string'), label: field(body, 'label', 'string')})
    context.audit.write('grant_create', {address, grant: created.grant.id, agents: agents.join(' '), role, expiresAt: created.grant.expiresAt})
    return [201, created satisfies ShareCreated]
  },
  'DELETE /api/shares/:id': async (context, _request, address, id) => {
    const [revoked] = await revokeGrants(context, [id!])
    await context.sharesChanged()
    context.audit.write('grant_revoke', {address, grant: revoked.id})
    return [200, revoked satisfies Share]
  },
  'GET /api/agents/:name/note': async (context, _request, _address, id) => {
    const {tmux, name} = await at(context, id)
    return [200, (await getAgentNote(tmux, context, name)) satisfies Note]
  },
  'PUT /api/agents/:name/note': async (context, request, _address, id) => {
    const body = await readJson(request)
    const revision = body.revision
    if (!Number.isInteger(revision) || (revision as number) < 0) {
      throw new Refusal(400, 'INVALID_ARGUMENT', '"revision" must be the revision of the note being edited (an integer ≥ 0)')
    }
    const {tmux, name} = await at(context, id)
    return [200, (await setAgentNote(tmux, context, name, field(body, 'text', 'string', true), {expectedRevision: revision as number})) satisfies Note]
  },
}

/** Routes one authenticated /api request; GET never changes anything, and --readonly refuses every change. */
export async function handleApi(context: ApiContext, request: IncomingMessage, res: ServerResponse, url: URL, address: string, identity: Identity): Promise<void> {
  const method = request.method ?? ''
  try {
    const {key, name, id} = match(url.pathname)
    const route = routes[`${method} ${key}`]
    if (!route) {
      const known = Object.keys(routes).some((candidate) => candidate.endsWith(` ${key}`))
      throw known ? new Refusal(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed here`) : new Refusal(404, 'NOT_FOUND', 'no such API endpoint')
    }
    const grant = identity.kind === 'grant' ? identity.grant : undefined
    if (grant) {
      const refusal = outOfGrant(grant, `${method} ${key}`, name)
      if (refusal) {
        context.audit.write('refused', {address, status: refusal instanceof Refusal ? refusal.status : 404, reason: 'outside share', grant: grant.id, method, path: url.pathname})
        throw refusal
      }
    }
    if (method !== 'GET' && context.readonly) {
      context.audit.write('refused', {address, status: 403, reason: 'read-only', method, path: url.pathname})
      throw new Refusal(403, 'READ_ONLY', 'this server is read-only (started with --readonly)')
    }
    const [status, body] = await route(context, request, address, name, id)
    if (method !== 'GET') context.changed()
    if (body instanceof RawBody) return send(res, status, body.data, {'Content-Type': body.type, 'Cache-Control': 'no-store'})
    sendJson(res, status, grant ? narrowed(grant, key, body) : body)
  } catch (thrown) {
    const error = storageFailure(thrown)
    if (error instanceof Refusal) return sendError(res, error.status, error.code, error.message)
    if (error instanceof MaestroError && error.code === 'STORAGE_FAILED') context.storage.record(`${method} ${url.pathname}`, thrown)
    if (error instanceof MaestroError) return sendError(res, STATUS[error.code] ?? 500, error.code, error.message, error.details)
    context.audit.write('error', {address, method, path: url.pathname, message: (error as Error).message})
    sendError(res, 500, 'INTERNAL', 'internal error (see the audit log)')
  }
}

/**
 * What a share link's grant may not do, as the refusal it gets: its agents' terminals and notes
 * only (editing notes for an operator); any other agent is answered as if it did not exist.
 */
function outOfGrant(grant: Grant, route: string, name: string | undefined): Error | undefined {
  if (name !== undefined && route.includes('/api/agents/:name') && !grant.agents.includes(name)) return agentNotFound(name)
  if (['GET /api/session', 'GET /api/agents', 'GET /api/agents/:name/note', 'GET /api/agents/:name/changes'].includes(route)) return undefined
  if (route === 'PUT /api/agents/:name/note') {
    return grant.role === 'operator' ? undefined : new Refusal(403, 'READ_ONLY', 'this share link is for watching (viewer): notes are read-only')
  }
  return new Refusal(403, 'FORBIDDEN', 'a share link cannot do this (only the server\'s own URL can)')
}

/** The answers a grant gets, cut down to its agents. */
function narrowed(grant: Grant, key: string, body: unknown): unknown {
  if (key === '/api/agents') return (body as Agent[]).filter((agent) => grant.agents.includes(agent.id))
  if (key === '/api/session') {
    const session = body as SessionInfo
    const {id, role, agents, label, expiresAt} = grant
    // Storage failures name other agents and paths on disk: the owner's health, like the health event.
    const storage = {failures: 0, last: null}
    return {...session, storage, readonly: session.readonly || role === 'viewer', grant: {id, role, agents, label, expiresAt}} satisfies SessionInfo
  }
  return body
}

function match(pathname: string): {key: string; name?: string; id?: string} {
  const parts = pathname.split('/')
  if (parts[1] !== 'api') throw new Refusal(404, 'NOT_FOUND', 'no such API endpoint')
  if (parts[2] === 'shares' && parts.length === 4) return {key: '/api/shares/:id', name: parts[3]}
  if (parts[2] === 'agents' && parts.length >= 4) {
    return {key: ['', 'api', 'agents', ':name', ...parts.slice(4)].join('/'), name: decoded(parts[3], 'agent name')}
  }
  // The name is checked as an agent id and the archive id must be one that exists: neither can reach outside the archive.
  if (parts[2] === 'archives' && parts.length >= 5) {
    return {key: ['', 'api', 'archives', ':name', ':id', ...parts.slice(5)].join('/'), name: decoded(parts[3], 'agent name'), id: decoded(parts[4], 'archive id')}
  }
  return {key: pathname}
}

function decoded(part: string, what: string): string {
  try {
    return decodeURIComponent(part)
  } catch {
    throw new Refusal(400, 'BAD_REQUEST', `malformed ${what} in the path`)
  }
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const type = request.headers['content-type'] ?? ''
  if (!/^application\/json\s*(;|$)/i.test(type)) throw new Refusal(415, 'UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json')
  const declared = Number(request.headers['content-length'] ?? 0)
  if (declared > MAX_BODY_BYTES) throw tooLarge()
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_BODY_BYTES) throw tooLarge()
    chunks.push(chunk)
  }
  let value: unknown
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw new Refusal(400, 'BAD_REQUEST', 'the body is not valid JSON')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Refusal(400, 'BAD_REQUEST', 'the body must be a JSON object')
  return value as Record<string, unknown>
}

function tooLarge(): Refusal {
  return new Refusal(413, 'PAYLOAD_TOO_LARGE', `the body is larger than ${MAX_BODY_BYTES} bytes`)
}

function field(body: Record<string, unknown>, key: string, type: 'string', required: true): string
function field(body: Record<string, unknown>, key: string, type: 'string', required?: false): string | undefined
function field(body: Record<string, unknown>, key: string, type: 'string', required = false): string | undefined {
  const value = body[key]
  if (value === undefined && !required) return undefined
  if (typeof value !== type) throw new Refusal(400, 'INVALID_ARGUMENT', `"${key}" must be a ${type}`)
  return value as string
}
