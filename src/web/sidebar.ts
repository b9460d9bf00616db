import type {Agent, HostState} from '../shared/agent.js'
import {ICONS, h, icon, reconcileChildren, setAttr, setText} from './dom.js'
import {type GroupNode, type SidebarModel, type TreeNode, buildModel, describeState, groupColour, visibleOrder} from './tree.js'

interface Row {
  item: HTMLLIElement
  button: HTMLButtonElement
  label: HTMLElement
  state: HTMLElement
  viewers: HTMLElement
  viewerCount: HTMLElement
  message: HTMLElement
  /** The worktree's branch, for an agent with one. */
  branch: HTMLElement
}

interface Group {
  item: HTMLLIElement
  head: HTMLButtonElement
  count: HTMLElement
  /** A remote host's state, when it is not simply reachable. */
  hostState: HTMLElement
  body: HTMLUListElement
}

const COLLAPSED_KEY = 'maestro.collapsed'

/**
 * The agent list. Each agent and group keeps one DOM node for its whole life; updates change only
 * the text and attributes that differ and move nodes only when the order changed, so a push every
 * second neither flickers nor loses hover, focus or scroll position.
 */
export class Sidebar {
  readonly element: HTMLElement
  readonly filter: HTMLInputElement
  private readonly waitingSection: HTMLElement
  private readonly waitingList: HTMLUListElement
  private readonly tree: HTMLUListElement
  private readonly empty: HTMLElement
  private readonly rows = new Map<string, Row>()
  private readonly groups = new Map<string, Group>()
  private readonly collapsed: Set<string>
  private agents: readonly Agent[] = []
  private hosts = new Map<string, HostState>()
  private model: SidebarModel = {waiting: [], tree: []}
  private selected?: string

  constructor(
    header: HTMLElement,
    private readonly select: (name: string) => void,
  ) {
    this.collapsed = new Set(JSON.parse(localStorage.getItem(COLLAPSED_KEY) ?? '[]') as string[])
    this.filter = h('input', {type: 'search', class: 'filter', placeholder: 'Filter agents', 'aria-label': 'Filter agents', autocomplete: 'off', spellcheck: 'false'})
    this.filter.addEventListener('input', () => this.render())
    this.filter.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') {
        const first = this.order()[0]
        if (first) this.select(first)
      }
    })
    this.waitingList = h('ul', {class: 'agent-list'})
    this.waitingSection = h('section', {class: 'waiting', 'aria-label': 'Waiting for you', hidden: true}, h('h2', {}, 'Waiting for you'), this.waitingList)
    this.tree = h('ul', {class: 'agent-list tree', 'aria-label': 'Agents'})
    this.empty = h('p', {class: 'empty'})
    this.element = h('aside', {class: 'sidebar', id: 'sidebar'}, header, h('div', {class: 'filter-wrap'}, this.filter), h('div', {class: 'lists'}, this.waitingSection, this.tree, this.empty))
  }

  update(agents: readonly Agent[], hosts: readonly HostState[] = []): void {
    this.agents = agents
    this.hosts = new Map(hosts.map((host) => [host.name, host]))
    this.render()
  }

  setSelected(name: string | undefined): void {
    this.selected = name
    for (const [rowName, row] of this.rows) setAttr(row.button, 'aria-current', rowName === name ? 'true' : null)
    if (name) this.rows.get(name)?.button.scrollIntoView({block: 'nearest'})
  }

  /** The agents in the order shown, for the next/previous shortcuts. */
  order(): string[] {
    return visibleOrder(this.model, this.filtering() ? new Set() : this.collapsed)
  }

  /** Refreshes the ages (`working 3m`) without waiting for the next push. */
  tick(): void {
    const now = Date.now()
    for (const agent of this.agents) {
      const row = this.rows.get(agent.id)
      if (row) setText(row.state, describeState(agent, now).text)
    }
  }

  private filtering(): boolean {
    return this.filter.value.trim() !== ''
  }

  private render(): void {
    this.model = buildModel(this.agents, this.filter.value, [...this.hosts.keys()])
    const used = new Set<string>()
    const usedGroups = new Set<string>()
    const now = Date.now()
    const rowFor = (agent: Agent, label: string) => {
      used.add(agent.id)
      return this.renderRow(agent, label, now)
    }
    reconcileChildren(this.waitingList, this.model.waiting.map((agent) => rowFor(agent, agent.id)))
    this.waitingSection.hidden = this.model.waiting.length === 0
    const renderNodes = (nodes: TreeNode[]): HTMLLIElement[] =>
      nodes.map((node) => {
        if (node.kind === 'agent') return rowFor(node.agent, node.label)
        usedGroups.add(node.key)
        const group = this.renderGroup(node)
        reconcileChildren(group.body, renderNodes(node.children))
        return group.item
      })
    reconcileChildren(this.tree, renderNodes(this.model.tree))
    for (const name of this.rows.keys()) if (!used.has(name)) this.rows.delete(name)
    for (const key of this.groups.keys()) if (!usedGroups.has(key)) this.groups.delete(key)
    const message = this.agents.length === 0 ? 'No agents yet. Start one with “New agent”, or maestro new NAME.' : used.size === 0 ? `No agent matches “${this.filter.value.trim()}”.` : ''
    this.empty.hidden = !message
    setText(this.empty, message)
  }

  private renderRow(agent: Agent, label: string, now: number): HTMLLIElement {
    let row = this.rows.get(agent.id)
    if (!row) {
      row = this.createRow(agent)
      this.rows.set(agent.id, row)
    }
    const {text, title} = describeState(agent, now)
    setText(row.label, label)
    setText(row.state, text)
    setAttr(row.button, 'title', `${agent.id}: ${title}`)
    setAttr(row.button, 'data-state', agent.state)
    setAttr(row.button, 'aria-current', agent.id === this.selected ? 'true' : null)
    row.viewers.hidden = agent.attachedClients === 0
    setText(row.viewerCount, String(agent.attachedClients))
    setAttr(row.viewers, 'title', `${agent.attachedClients} viewer${agent.attachedClients === 1 ? '' : 's'}`)
    row.branch.hidden = !agent.worktree
    setText(row.branch, agent.worktree?.branch ?? '')
    const message = agent.state === 'waiting' ? (agent.stateMessage ?? '') : ''
    row.message.hidden = !message
    setText(row.message, message)
    return row.item
  }

  private createRow({id: name, name: shortName}: Agent): Row {
    const label = h('span', {class: 'agent-name'})
    const state = h('span', {class: 'agent-state'})
    const viewerCount = h('span', {})
    const viewers = h('span', {class: 'viewers'}, icon(ICONS.eye), viewerCount)
    const message = h('span', {class: 'agent-message'})
    const branch = h('span', {class: 'agent-branch'})
    const button = h('button', {type: 'button', class: 'agent', 'data-name': name}, h('span', {class: 'dot', 'aria-hidden': 'true'}), label, viewers, state, branch, message)
    button.style.setProperty('--group', groupColour(shortName))
    button.addEventListener('click', () => this.select(name))
    return {item: h('li', {}, button), button, label, state, viewers, viewerCount, message, branch}
  }

  private renderGroup(node: GroupNode): Group {
    let group = this.groups.get(node.key)
    if (!group) {
      group = this.createGroup(node)
      this.groups.set(node.key, group)
    }
    const open = this.filtering() || !this.collapsed.has(node.key)
    setAttr(group.head, 'aria-expanded', String(open))
    group.body.hidden = !open
    setText(group.count, String(node.agentCount))
    // A host that does not answer keeps its agents as last seen, dimmed, under a word saying so.
    const host = node.host ? this.hosts.get(node.host) : undefined
    const word = host?.state === 'unreachable' ? 'unreachable' : host?.state === 'connecting' ? 'connecting…' : ''
    group.hostState.hidden = !word
    setText(group.hostState, word)
    setAttr(group.item, 'data-host-state', host?.state ?? null)
    setAttr(group.hostState, 'title', host?.error ?? null)
    return group
  }

  private createGroup(node: GroupNode): Group {
    const count = h('span', {class: 'count'})
    const hostState = h('span', {class: 'host-state', hidden: true})
    const head = h('button', {type: 'button', class: 'group-head', 'data-group': node.key}, icon(ICONS.chevron), h('span', {class: 'swatch', 'aria-hidden': 'true'}), h('span', {class: 'group-name'}, node.label), hostState, count)
    const body = h('ul', {class: 'agent-list'})
    const item = h('li', {class: 'group'}, head, body)
    item.style.setProperty('--group', groupColour(node.key))
    head.addEventListener('click', () => {
      if (this.collapsed.has(node.key)) this.collapsed.delete(node.key)
      else this.collapsed.add(node.key)
      localStorage.setItem(COLLAPSED_KEY, JSON.stringify([...this.collapsed]))
      this.render()
    })
    return {item, head, count, hostState, body}
  }
}
