import {listAgents} from '../agents.js'
import type {Agent, AgentState} from '../shared/agent.js'
import {MaestroError, agentNotFound} from '../shared/errors.js'
import {assertAgentName} from '../shared/names.js'
import type {Tmux} from '../tmux/client.js'

const POLL_MS = 500

/**
 * Resolves with the agents once every one of them is in one of `states`; rejects with TIMEOUT
 * after `timeoutMs`, or AGENT_NOT_FOUND when an agent disappears (it can never get there).
 */
export async function waitForStates(tmux: Tmux, names: string[], states: AgentState[], timeoutMs?: number): Promise<Agent[]> {
  for (const name of names) assertAgentName(name)
  const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs
  for (;;) {
    const agents = await listAgents(tmux)
    const wanted = names.map((name) => {
      const agent = agents.find((candidate) => candidate.name === name)
      if (!agent) throw agentNotFound(name)
      return agent
    })
    if (wanted.every((agent) => states.includes(agent.state))) return wanted
    if (Date.now() >= deadline) {
      const pending = wanted.filter((agent) => !states.includes(agent.state))
      throw new MaestroError(
        'TIMEOUT',
        `timed out: ${pending.map((agent) => `${agent.name} is ${agent.state}`).join(', ')} (waited for ${states.join(' or ')})`,
        {agents: pending.map(({name, state}) => ({name, state}))},
      )
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_MS, Math.max(0, deadline - Date.now()))))
  }
}
