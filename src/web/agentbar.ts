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

const ENV_ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/

/**
 * The program an agent runs, as a person would name it: `gemini` for
 * `env HOME=/tmp/x /usr/lib/node_modules/.bin/gemini --yolo`. Leading `env`, its options and
 * variable assignments are skipped, and the path is dropped.
 */
export function programName(command: string): string {
  const words = command.trim().split(/\s+/).filter(Boolean)
  let index = 0
  if (words[index] === 'env' || words[index]?.endsWith('/env')) {
    index++
    while (index < words.length && (words[index].startsWith('-') || ENV_ASSIGNMENT.test(words[index]))) index++
  } else {
    while (index < words.length - 1 && ENV_ASSIGNMENT.test(words[index])) index++
  }
  const program = words[index]?.replace(/^['"]|['"]$/g, '')
  return program ? program.slice(program.lastIndexOf('/') + 1) || program : 'shell'
}

/** The line above the terminal: which agent this is, its state, where it runs, and what can be done to it. */
export class AgentBar {
  readonly element: HTMLElement
  private readonly title = h('h1', {class: 'agent-title'})
  private readonly state = h('span', {class: 'state-pill'})
  private readonly program = h('span', {class: 'agent-program'})
  private readonly where = h('span', {class: 'agent-where'})
  private readonly meta = h('span', {class: 'agent-meta'}, this.program, this.where)
  private readonly notesToggle: HTMLButtonElement
  private readonly changesToggle: HTMLButtonElement
  private readonly actions: HTMLElement
  private readonly restart: HTMLButtonElement
  private readonly share: HTMLButtonElement
  /** What changes an agent: disabled while the server is out of reach. */
  private readonly changers: HTMLButtonElement[]

  constructor(
    private readonly readonly: boolean,
    act: AgentBarActions,
  ) {
    const menu = iconButton(ICONS.menu, 'Agents', 'menu')
    menu.setAttribute('aria-controls', 'sidebar')
    menu.addEventListener('click', () => act.toggleDrawer())
    this.notesToggle = h('button', {type: 'button', class: 'notes-toggle', title: 'Show or hide this agent’s notes', 'aria-label': 'Notes', 'aria-controls': 'notes', 'aria-expanded': 'false'}, icon(ICONS.note), h('span', {class: 'label'}, 'Notes'))
    this.notesToggle.addEventListener('click', () => act.toggleNotes())
    this.changesToggle = h('button', {type: 'button', class: 'changes-toggle', title: 'Show what the agent changed in its worktree, or its terminal', 'aria-pressed': 'false'}, 'Changes')
    this.changesToggle.addEventListener('click', () => act.toggleChanges())
    const rename = h('button', {type: 'button', class: 'rename', title: 'Rename', 'aria-label': 'Rename'}, icon(ICONS.pencil), h('span', {class: 'label'}, 'Rename'))
    rename.addEventListener('click', () => act.rename())
    const share = (this.share = h('button', {type: 'button', class: 'share', title: 'Make or revoke links that show only this agent', 'aria-label': 'Share'}, icon(ICONS.link), h('span', {class: 'label'}, 'Share')))
    share.addEventListener('click', () => act.share())
    const kill = h('button', {type: 'button', class: 'danger kill', title: 'Kill', 'aria-label': 'Kill'}, icon(ICONS.trash), h('span', {class: 'label'}, 'Kill'))
    kill.addEventListener('click', () => act.kill())
    this.restart = h('button', {type: 'button', class: 'restart', title: 'Run its program again, in the same directory'}, h('span', {class: 'label'}, 'Restart'))
    this.restart.addEventListener('click', () => act.restart())
    this.changers = [this.restart, share, rename, kill]
    this.actions = h('div', {class: 'agent-actions'}, this.restart, share, rename, kill)
    this.element = h('header', {class: 'agent-bar'}, menu, this.title, this.state, this.meta, h('span', {class: 'spacer'}), this.changesToggle, this.notesToggle, this.actions)
  }

  /** Whether the notes panel is shown, for the toggle's state. */
  notesShown(shown: boolean): void {
    setAttr(this.notesToggle, 'aria-expanded', String(shown))
  }

  /** While disconnected nothing can be changed: the buttons say so instead of failing on click. */
  setOnline(online: boolean): void {
    for (const button of this.changers) {
      button.disabled = !online
      setAttr(button, 'aria-disabled', online ? null : 'true')
    }
  }

  render(agent: Agent | undefined, changesOpen = false): void {
    setText(this.title, agent?.id ?? '')
    this.title.style.setProperty('--group', agent ? groupColour(agent.name) : 'transparent')
    this.state.hidden = !agent
    this.meta.hidden = !agent
    this.notesToggle.hidden = !agent
    this.changesToggle.hidden = !agent?.worktree
    setAttr(this.changesToggle, 'aria-pressed', String(changesOpen))
    this.actions.hidden = !agent || this.readonly
    if (!agent) return
    this.restart.hidden = agent.state !== 'exited'
    // Share links name agents of this machine only (src/shares.ts says why).
    this.share.hidden = agent.host !== null
    const described = describeState(agent, Date.now())
    setText(this.state, described.text)
    setAttr(this.state, 'title', described.title)
    setAttr(this.state, 'data-state', agent.state)
    // The program's name stays whole; the branch and directory after it give way first.
    setText(this.program, programName(agent.command))
    setAttr(this.program, 'title', agent.command || 'a shell (no command given)')
    setText(this.where, `${agent.worktree ? `${agent.worktree.branch} · ` : ''}${agent.dir}`)
    setAttr(this.where, 'title', `in ${agent.dir}${agent.worktree ? `, on branch ${agent.worktree.branch} of ${agent.worktree.repo}` : ''}`)
  }
}
