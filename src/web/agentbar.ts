import type {Agent} from '../shared/agent.js'
import {ICONS, h, icon, iconButton, setAttr, setText} from './dom.js'
import {describeState, groupColour} from './tree.js'

export interface AgentBarActions {
  toggleDrawer(): void
  toggleNotes(): void
  toggleChanges(): void
  rename(): void
  share(): void
  restart(): void
  kill(): void
}

/** The line above the terminal: which agent this is, its state, where it runs, and what can be done to it. */
export class AgentBar {
  readonly element: HTMLElement
  private readonly title = h('h1', {class: 'agent-title'})
  private readonly state = h('span', {class: 'state-pill'})
  private readonly meta = h('span', {class: 'agent-meta'})
  private readonly notesToggle: HTMLButtonElement
  private readonly changesToggle: HTMLButtonElement
  private readonly actions: HTMLElement
  private readonly restart: HTMLButtonElement

  constructor(
    private readonly readonly: boolean,
    act: AgentBarActions,
  ) {
    const menu = iconButton(ICONS.menu, 'Agents', 'menu')
    menu.setAttribute('aria-controls', 'sidebar')
    menu.addEventListener('click', () => act.toggleDrawer())
    this.notesToggle = iconButton(ICONS.note, 'Show or hide notes', 'notes-toggle')
    this.notesToggle.addEventListener('click', () => act.toggleNotes())
    this.changesToggle = h('button', {type: 'button', class: 'changes-toggle', title: 'Show what the agent changed in its worktree, or its terminal', 'aria-pressed': 'false'}, 'Changes')
    this.changesToggle.addEventListener('click', () => act.toggleChanges())
    const rename = h('button', {type: 'button', class: 'rename', title: 'Rename'}, icon(ICONS.pencil), h('span', {class: 'label'}, 'Rename'))
    rename.addEventListener('click', () => act.rename())
    const share = h('button', {type: 'button', class: 'share', title: 'Make or revoke links that show only this agent'}, icon(ICONS.link), h('span', {class: 'label'}, 'Share'))
    share.addEventListener('click', () => act.share())
    const kill = h('button', {type: 'button', class: 'danger kill', title: 'Kill'}, icon(ICONS.trash), h('span', {class: 'label'}, 'Kill'))
    kill.addEventListener('click', () => act.kill())
    this.restart = h('button', {type: 'button', class: 'restart', title: 'Run its program again, in the same directory'}, h('span', {class: 'label'}, 'Restart'))
    this.restart.addEventListener('click', () => act.restart())
    this.actions = h('div', {class: 'agent-actions'}, this.restart, share, rename, kill)
    this.element = h('header', {class: 'agent-bar'}, menu, this.title, this.state, this.meta, h('span', {class: 'spacer'}), this.changesToggle, this.notesToggle, this.actions)
  }

  render(agent: Agent | undefined, changesOpen = false): void {
    setText(this.title, agent?.name ?? '')
    this.title.style.setProperty('--group', agent ? groupColour(agent.name) : 'transparent')
    this.state.hidden = !agent
    this.meta.hidden = !agent
    this.notesToggle.hidden = !agent
    this.changesToggle.hidden = !agent?.worktree
    setAttr(this.changesToggle, 'aria-pressed', String(changesOpen))
    this.actions.hidden = !agent || this.readonly
    if (!agent) return
    this.restart.hidden = agent.status !== 'exited'
    const described = describeState(agent, Date.now())
    setText(this.state, described.text)
    setAttr(this.state, 'title', described.title)
    setAttr(this.state, 'data-state', agent.state)
    const branch = agent.worktree ? ` · ${agent.worktree.branch}` : ''
    setText(this.meta, `${agent.command || 'shell'}${branch} · ${agent.dir}`)
    setAttr(this.meta, 'title', `${agent.command || 'shell'} in ${agent.dir}${agent.worktree ? `, on branch ${agent.worktree.branch} of ${agent.worktree.repo}` : ''}`)
  }
}
