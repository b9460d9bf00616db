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
}

export type AgentStatus = 'active' | 'idle' | 'exited'

/** An agent that printed output this recently counts as active. */
export const ACTIVE_WINDOW_MS = 5000
