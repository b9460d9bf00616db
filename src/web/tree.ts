import type {Agent, StateSource} from '../shared/agent.js'

/** The sidebar's model, kept free of the DOM so its rules can be tested without a browser. */

export interface GroupNode {
  kind: 'group'
  /** The group's path joined by hyphens, as in agent names: `shop-frontend`; `HOST:` and `HOST:shop` on a remote host. */
  key: string
  /** The remote host whose agents this top group holds. */
  host?: string
  label: string
  children: TreeNode[]
  agentCount: number
}

export interface AgentNode {
  kind: 'agent'
  agent: Agent
  /** The last part of the name; the group headers above it show the rest. */
  label: string
}

export type TreeNode = GroupNode | AgentNode

export interface SidebarModel {
  /** Agents waiting for their user, longest waiting first, lifted out of the tree. */
  waiting: Agent[]
  tree: TreeNode[]
}

export function matchesFilter(agent: Agent, filter: string): boolean {
  const needle = filter.trim().toLowerCase()
  return needle === '' || agent.id.toLowerCase().includes(needle)
}

/** `hosts`: the remote hosts, each shown as a group even while it has no agents (not while filtering). */
export function buildModel(agents: readonly Agent[], filter = '', hosts: readonly string[] = []): SidebarModel {
  const shown = agents.filter((agent) => matchesFilter(agent, filter))
  const waiting = shown
    .filter((agent) => agent.state === 'waiting')
    .sort((a, b) => a.stateSince.localeCompare(b.stateSince) || a.id.localeCompare(b.id))
  return {waiting, tree: buildTree(shown.filter((agent) => agent.state !== 'waiting'), filter.trim() ? [] : hosts)}
}

/** This machine's agents at the top, by their hyphen hierarchy; each remote host's the same way, in a group of its own. */
export function buildTree(agents: readonly Agent[], hosts: readonly string[] = []): TreeNode[] {
  const root: GroupNode = {kind: 'group', key: '', label: '', children: [], agentCount: 0}
  const hostGroup = (host: string): GroupNode => {
    let group = root.children.find((child): child is GroupNode => child.kind === 'group' && child.host === host)
    if (!group) {
      group = {kind: 'group', key: `${host}:`, label: host, host, children: [], agentCount: 0}
      root.children.push(group)
    }
    return group
  }
  for (const host of hosts) hostGroup(host)
  for (const agent of agents) {
    let parent = agent.host ? hostGroup(agent.host) : root
    if (agent.host) root.agentCount++
    parent.agentCount++
    for (const [depth, part] of agent.group.entries()) {
      const key = `${agent.host ? `${agent.host}:` : ''}${agent.group.slice(0, depth + 1).join('-')}`
      let group = parent.children.find((child): child is GroupNode => child.kind === 'group' && child.key === key)
      if (!group) {
        group = {kind: 'group', key, label: part, children: [], agentCount: 0}
        parent.children.push(group)
      }
      group.agentCount++
      parent = group
    }
    parent.children.push({kind: 'agent', agent, label: agent.name.slice(agent.group.join('-').length).replace(/^-/, '') || agent.name})
  }
  sortTree(root.children)
  return root.children
}

// Groups before agents, each alphabetically, so the tree reads like a file browser and never
// reorders on its own; remote hosts after everything of this machine.
function sortTree(nodes: TreeNode[]): void {
  const rank = (node: TreeNode) => (node.kind === 'agent' ? 1 : node.host ? 2 : 0)
  nodes.sort((a, b) => rank(a) - rank(b) || nodeName(a).localeCompare(nodeName(b)))
  for (const node of nodes) if (node.kind === 'group') sortTree(node.children)
}

const nodeName = (node: TreeNode) => (node.kind === 'group' ? node.key : node.agent.id)

/** The names in the order the sidebar shows them, for moving to the next or previous agent. */
export function visibleOrder(model: SidebarModel, collapsed: ReadonlySet<string>): string[] {
  const names = model.waiting.map((agent) => agent.id)
  const walk = (nodes: TreeNode[]) => {
    for (const node of nodes) {
      if (node.kind === 'agent') names.push(node.agent.id)
      else if (!collapsed.has(node.key)) walk(node.children)
    }
  }
  walk(model.tree)
  return names
}

/** The top-level group of a name: `shop` for `shop-frontend-cart`, the name itself when ungrouped. */
export function topGroup(name: string): string {
  return name.split('-')[0] || name
}

/**
 * A colour that depends only on the top-level group's name (FNV-1a hash to a hue), so the same
 * group looks the same in every tab, on every reload and on every machine.
 */
export function groupColour(name: string): string {
  let hash = 0x811c9dc5
  for (const char of topGroup(name)) {
    hash ^= char.codePointAt(0) ?? 0
    hash = Math.imul(hash, 0x01000193)
  }
  const hue = (hash >>> 0) % 360
  return `hsl(${hue} 62% 66%)`
}

/** `4s`, `12m`, `3h`, `2d`: short enough for a sidebar row. */
export function shortAge(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000))
  if (seconds < 60) return `${seconds}s`
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h`
  return `${Math.floor(seconds / 86_400)}d`
}


const SOURCE_WORDS: Record<StateSource, string> = {
  report: 'reported by the agent',
  screen: 'recognised on its screen',
  activity: 'inferred from output timing',
  exit: 'its program ended',
}

/** The row's state text (`working 3m`) and a longer explanation naming the source of the reading. */
export function describeState(agent: Agent, now: number): {text: string; title: string} {
  const since = Date.parse(agent.stateSince)
  const age = Number.isNaN(since) ? '' : ` ${shortAge(now - since)}`
  // The CLI's words (`maestro ls`, `--json`), so the page and the terminal never disagree.
  const word = agent.state === 'exited' && agent.exitCode !== null ? `exited (${agent.exitCode})` : agent.state
  const message = agent.stateMessage ? `: ${agent.stateMessage}` : ''
  return {
    text: `${word}${age}`,
    title: `${agent.state === 'waiting' ? 'waiting for you' : agent.state}${message} (${SOURCE_WORDS[agent.stateSource] ?? agent.stateSource})`,
  }
}

/** The agents that have just started waiting, for notifications: none on the first reading. */
export function newlyWaiting(previous: ReadonlyMap<string, Agent> | undefined, agents: readonly Agent[]): Agent[] {
  if (!previous) return []
  return agents.filter((agent) => agent.state === 'waiting' && previous.get(agent.id)?.state !== 'waiting')
}
