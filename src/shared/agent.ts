/** The shape `maestro ls --json` prints and `GET /api/agents` returns. Fields are only ever added. */
export interface Agent {
  name: string
  group: string[]
  status: AgentStatus
  exitCode: number | null
  createdAt: string
  lastActivityAt: string
  attachedClients: number
  dir: string
  command: string
  note: string
  /** Whether the agent needs its user: see AgentState. */
  state: AgentState
  stateSince: string
  stateSource: StateSource
  stateMessage: string | null
  /** The git worktree maestro made for the agent (`new --worktree`), or null. */
  worktree: AgentWorktree | null
}

/** `base` is the commit the agent's branch started from; its changes are measured against it. */
export interface AgentWorktree {
  repo: string
  path: string
  branch: string
  base: string
}

export type AgentStatus = 'active' | 'idle' | 'exited'

/**
 * working: busy on its own; waiting: needs input from its user; idle: nothing to do;
 * exited: its program ended; unknown: no honest reading is possible.
 */
export type AgentState = 'working' | 'waiting' | 'idle' | 'exited' | 'unknown'
export const AGENT_STATES: readonly AgentState[] = ['working', 'waiting', 'idle', 'exited', 'unknown']

/**
 * report: the agent said so; screen: recognised on its screen; activity: inferred from output
 * timing; exit: its program ended (the message gives the exit code or signal).
 */
export type StateSource = 'report' | 'screen' | 'activity' | 'exit'

/** An agent that printed output this recently counts as active. */
const ACTIVE_WINDOW_MS = 5000

export function printedRecently(lastOutput: Date, now: number): boolean {
  return now - lastOutput.getTime() < ACTIVE_WINDOW_MS
}
