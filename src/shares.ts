import {MaestroError, agentNotFound} from './shared/errors.js'
import {parseAgentId} from './shared/names.js'
import {DEFAULT_GRANT_EXPIRY, type Grant, type GrantRole, createGrant, parseExpiry} from './store/grants.js'
import type {Tmux} from './tmux/client.js'
import type {Dirs} from './context.js'
import {agentNames} from './agents.js'

export interface ShareOptions {
  agents: string[]
  role: GrantRole
  /** `30m`, `24h`, `7d`; 24 h when left out. */
  expires?: string
  label?: string
}

/** A share link's grant for existing agents; the token is returned once and stored only as a hash. */
export async function shareAgents(tmux: Tmux, dirs: Dirs, options: ShareOptions): Promise<{grant: Grant; token: string}> {
  if (options.agents.length === 0) throw new MaestroError('INVALID_ARGUMENT', 'name at least one agent to share')
  // Grants hold ids and the page filters by them, but renames and kills on a host do not pass
  // through this machine's grant store yet: a remote agent's link could outlive or miss its agent.
  const remote = options.agents.find((id) => parseAgentId(id).host !== null)
  if (remote) throw new MaestroError('INVALID_ARGUMENT', `share links cannot name remote agents (${remote}): run maestro share on that host`)
  const expiresInMs = parseExpiry(options.expires ?? DEFAULT_GRANT_EXPIRY)
  const existing = new Set(await agentNames(tmux))
  const missing = options.agents.find((name) => !existing.has(name))
  if (missing) throw agentNotFound(missing)
  return createGrant(dirs, {agents: options.agents, role: options.role, expiresInMs, label: options.label})
}
