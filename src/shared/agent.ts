/** What a watcher (serve, ls --watch) knows of one remote host: `connecting` until it first answered or failed. */
export interface HostState {
  name: string
  state: 'connecting' | 'reachable' | 'unreachable'
  /** Why it is unreachable. */
  error: string | null
}

/** The shape `maestro ls --json` prints and `GET /api/agents` returns. Fields are only ever added. */
export interface Agent {
  /** How commands name the agent: `name` here, `host:name` on a remote host. */
  id: string
  /** The remote host it runs on, by its maestro name; null for this machine. */
  host: string | null
  name: string
  group: string[]
  /** Kept for scripts written before `state`: `active` printed output in the last 5 s. Use `state`. */
  status: AgentStatus
  exitCode: number | null
  createdAt: string
  lastActivityAt: string
  attachedClients: number
  dir: string
  command: string
  note: string
  /** True when notes are encrypted and no passphrase was given: `note` is then empty, not read. */
  noteLocked: boolean
  /** Whether the agent needs its user: see AgentState. */
  state: AgentState
  stateSince: string
  stateSource: StateSource
  stateMessage: string | null
  /** The git worktree maestro made for the agent (`new --worktree`), or null. */
  worktree: AgentWorktree | null
}

/**
 * What an agent changed in its worktree against its base (`maestro diff --json`, and with the
 * patch text `GET /api/agents/NAME/changes`).
 */
export interface WorktreeChanges {
  /** Commits beyond the base, oldest first. */
  commits: {sha: string; subject: string}[]
  /** Every file that differs from the base; null counts for a binary file. */
  files: {path: string; added: number | null; deleted: number | null}[]
  /** Of those, the files whose change is not committed yet, untracked ones included. */
  uncommitted: string[]
}

export interface AgentChanges extends WorktreeChanges {
  name: string
  worktree: AgentWorktree
  patch: string
  /** True when the patch was cut short; `maestro diff NAME` prints all of it. */
  truncated: boolean
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
export const ACTIVE_WINDOW_MS = 5000

export function printedRecently(lastOutput: Date, now: number): boolean {
  return now - lastOutput.getTime() < ACTIVE_WINDOW_MS
}
