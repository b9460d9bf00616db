import {spawn} from 'node:child_process'

import type {Context} from './context.js'
import type {Agent, AgentState} from './shared/agent.js'
import {readSettings} from './store/settings.js'

/** The states worth telling the user about even when no page is open. */
const TOLD: readonly AgentState[] = ['waiting', 'exited']

/**
 * Runs the `onStateChange` command (an argument array, never a shell string) once each time an
 * agent enters waiting or exited, with MAESTRO_AGENT, MAESTRO_STATE and MAESTRO_MESSAGE in its
 * environment (`env` with those added). The first list only sets what is known: an agent already waiting did not just
 * start to. The command runs detached and is never waited for, so a slow or failing one cannot
 * hold up whoever watches.
 */
export function stateNotifier(command: readonly string[], env: NodeJS.ProcessEnv): (agents: readonly Agent[]) => void {
  let known: Map<string, AgentState> | undefined
  return (agents) => {
    const previous = known
    known = new Map(agents.map((agent) => [agent.name, agent.state]))
    if (!previous) return
    for (const agent of agents) {
      if (!TOLD.includes(agent.state) || previous.get(agent.name) === agent.state) continue
      const told = {...env, MAESTRO_AGENT: agent.name, MAESTRO_STATE: agent.state, MAESTRO_MESSAGE: agent.stateMessage ?? ''}
      const child = spawn(command[0], command.slice(1), {env: told, stdio: 'ignore', detached: true})
      // A command that cannot start (not installed, say) is the user's to fix, never a crash.
      child.on('error', () => undefined)
      child.unref()
    }
  }
}

/** The notifier the settings ask for, if any; its command starts with the context's environment. */
export async function configuredNotifier(context: Pick<Context, 'configDir' | 'stateDir' | 'env'>): Promise<((agents: readonly Agent[]) => void) | undefined> {
  const command = (await readSettings(context)).onStateChange
  return command?.length ? stateNotifier(command, context.env) : undefined
}
