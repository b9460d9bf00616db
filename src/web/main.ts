import '@xterm/xterm/css/xterm.css'
import './styles.css'

import type {Agent, HostState} from '../shared/agent.js'
import type {SessionInfo} from '../shared/protocol.js'
import {ApiError, api} from './api.js'
import {AgentBar} from './agentbar.js'
import {archiveDialog} from './archive.js'
import {ChangesView} from './changes.js'
import {ConnectionBanner, HealthBanner} from './banner.js'
import {Connection} from './connection.js'
import {parseAgentId} from '../shared/names.js'
import {NAME_HINT, formDialog, nameProblem, toast} from './dialogs.js'
import {ICONS, h, iconButton, setAttr, setText} from './dom.js'
import {KeyBar} from './keybar.js'
import {NotesPanel} from './notes.js'
import {Notifier} from './notify.js'
import {installShortcuts, toggleHelp} from './shortcuts.js'
import {shareDialog} from './share.js'
import {Sidebar} from './sidebar.js'
import {TerminalView} from './terminal.js'

const NOTES_HIDDEN_KEY = 'maestro.notesHidden'
/** Matches the phone layout in styles.css. */
const PHONE = window.matchMedia('(max-width: 760px)')
/** Below this width the notes column would leave the terminal too few columns: it starts collapsed. */
const NARROW = window.matchMedia('(max-width: 1200px)')

/** The agent named in the address (`#shop-api`), so a reload or a bookmark shows it again. */
function agentFromHash(): string | undefined {
  try {
    return decodeURIComponent(location.hash.slice(1)) || undefined
  } catch {
    return undefined
  }
}

/** The whole page: owns the agent list and which agent is shown, and wires the parts together. */
class App {
  private agents = new Map<string, Agent>()
  private hosts: HostState[] = []
  private selected?: string
  private readonly views = new Map<string, TerminalView>()
  private readonly root: HTMLElement
  private readonly banner: ConnectionBanner
  private readonly health = new HealthBanner()
  private readonly stage: HTMLElement
  private readonly placeholder: HTMLElement
  private readonly agentBar: AgentBar
  private readonly sidebar: Sidebar
  private readonly notes: NotesPanel
  private readonly changes = new ChangesView()
  private readonly keybar: KeyBar
  private readonly notifier = new Notifier((name) => this.select(name))
  private readonly connection: Connection
  private wasOnline = false
  /** Whether a list arrived yet: before it, an unknown agent in the URL is no news to announce. */
  private listed = false
  /** Agents this page is killing: their end is announced by the kill itself, not as news from elsewhere. */
  private readonly killing = new Set<string>()

  /** A share link reaches its agents only: it never creates, renames, kills or shares. */
  private readonly manages: boolean
  /** Nothing typed reaches the agents: a --readonly server, or a viewer's share link. */
  private readonly watchOnly: boolean
  private readonly newButton: HTMLButtonElement
  private toldReadonly = false

  constructor(private readonly session: SessionInfo) {
    const {readonly, grant} = session
    const manages = !readonly && !grant
    this.manages = manages
    this.watchOnly = readonly || grant?.role === 'viewer'
    const newButton = iconButton(ICONS.plus, 'New agent (n)', 'new-agent')
    this.newButton = newButton
    newButton.hidden = !manages
    newButton.addEventListener('click', () => this.createAgent())
    const bell = iconButton(ICONS.bell, 'Notify me when an agent waits for input')
    bell.hidden = !this.notifier.supported
    setAttr(bell, 'aria-pressed', String(this.notifier.enabled))
    bell.addEventListener('click', async () => setAttr(bell, 'aria-pressed', String(await this.notifier.toggle())))
    // A share link sees its agents only, never the archive.
    const archive = iconButton(ICONS.archive, 'Archive: killed agents and their recordings', 'archive-button')
    archive.hidden = Boolean(grant)
    archive.addEventListener('click', () => archiveDialog())
    const help = iconButton(ICONS.help, 'Keyboard shortcuts (?)')
    help.addEventListener('click', () => toggleHelp())
    const header = h(
      'header',
      {class: 'sidebar-head'},
      h('span', {class: 'brand'}, 'maestro'),
      grant ? grantBadge(grant) : readonly ? h('span', {class: 'badge readonly', title: 'This server was started with --readonly: you can watch, not type or change anything.'}, 'read-only') : null,
      h('span', {class: 'spacer'}),
      bell,
      archive,
      help,
      newButton,
    )
    this.sidebar = new Sidebar(header, (name) => this.select(name, {focus: true}))
    this.notes = new NotesPanel(readonly)
    this.keybar = new KeyBar(
      (data) => this.currentView()?.type(data),
      () => this.currentView()?.applicationCursorKeys ?? false,
    )
    this.keybar.element.hidden = this.watchOnly

    this.agentBar = new AgentBar(!manages, {
      toggleDrawer: () => this.toggleDrawer(),
      toggleNotes: () => this.toggleNotes(),
      toggleChanges: () => this.toggleChanges(),
      rename: () => this.renameAgent(),
      kill: () => this.killAgent(),
      share: () => {
        if (this.manages && this.selected) shareDialog(this.selected)
      },
      restart: () => void this.restartAgent(),
    })
    this.placeholder = h('div', {class: 'placeholder'})
    this.stage = h('div', {class: 'stage'}, this.placeholder, this.changes.element)
    const main = h('main', {class: 'main'}, this.agentBar.element, this.stage, this.keybar.element)
    this.banner = new ConnectionBanner(() => this.connection.retryNow())
    const scrim = h('div', {class: 'scrim'})
    scrim.addEventListener('click', () => this.toggleDrawer(false))
    this.root = h('div', {class: 'app'}, this.banner.element, this.health.element, h('div', {class: 'layout'}, this.sidebar.element, main, this.notes.element), scrim)
    // The user's own choice wins; without one the notes start collapsed where they would crowd the terminal.
    const notesHidden = localStorage.getItem(NOTES_HIDDEN_KEY)
    this.root.classList.toggle('notes-hidden', notesHidden === null ? NARROW.matches : notesHidden === '1')
    this.showNotesState()
    PHONE.addEventListener('change', () => this.showNotesState())
    document.body.append(this.root)

    this.connection = new Connection({
      agents: (agents, hosts) => this.update(agents, hosts),
      renamed: (from, to) => this.followRename(from, to),
      health: (health) => this.health.show(health),
      status: (status) => {
        this.banner.show(status)
        this.root.dataset.connection = status.kind
        const online = status.kind === 'online'
        this.agentBar.setOnline(online)
        this.newButton.disabled = !online
        // One countdown, the banner's: the terminal waits for the page's connection to come back.
        if (status.kind === 'offline' || status.kind === 'signed-out') for (const view of this.views.values()) view.pageOffline()
      },
      online: () => this.online(),
    })
    installShortcuts({
      focusFilter: () => {
        this.toggleDrawer(true)
        this.sidebar.filter.focus()
        this.sidebar.filter.select()
      },
      move: (step) => this.move(step),
      newAgent: () => this.createAgent(),
    })
    this.sidebar.filter.addEventListener('keydown', (event) => {
      if (event.key !== 'Escape') return
      this.sidebar.filter.value = ''
      this.sidebar.filter.dispatchEvent(new Event('input'))
      this.toggleDrawer(false)
      this.currentView()?.focus()
    })
    this.sidebar.element.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') this.toggleDrawer(false)
    })
    window.addEventListener('pagehide', () => this.notes.flush())
    setInterval(() => {
      this.sidebar.tick()
      this.renderAgentBar()
    }, 5000)
    this.selected = agentFromHash()
    setText(this.placeholder, 'Connecting…')
    // On a phone the list is the way in: show it until an agent is picked.
    if (PHONE.matches && !this.selected) this.toggleDrawer(true)
    this.connection.start()
  }

  private currentView(): TerminalView | undefined {
    return this.selected ? this.views.get(this.selected) : undefined
  }

  private update(agents: Agent[], hosts = this.hosts): void {
    this.hosts = hosts
    this.agents = new Map(agents.map((agent) => [agent.id, agent]))
    this.sidebar.update(agents, hosts)
    for (const agent of agents) this.notes.remoteText(agent.id, agent.note)
    this.notifier.update(agents, this.selected)
    for (const [name, view] of this.views) {
      if (!this.agents.has(name)) {
        view.dispose()
        this.views.delete(name)
      }
    }
    const waiting = agents.filter((agent) => agent.state === 'waiting').length
    document.title = waiting ? `(${waiting}) maestro` : 'maestro'
    if (this.selected && !this.agents.has(this.selected)) {
      if (this.listed && !this.killing.has(this.selected)) toast(`“${this.selected}” is gone: it was killed or renamed elsewhere.`)
      this.notes.forget(this.selected)
      this.selected = undefined
    }
    this.listed = true
    // Nothing is opened unasked: attaching resizes the agent's window, which its program redraws,
    // and that output would read as activity and hide that the agent was waiting.
    if (this.selected && !this.currentView()) this.select(this.selected)
    else if (!this.selected) {
      const pick = PHONE.matches ? 'Pick an agent from the list (☰, top left).' : 'Pick an agent on the left, or press Alt+↓.'
      const none = this.manages ? 'No agents yet. Start one with +, or maestro new NAME.' : 'No agents to show yet.'
      this.showPlaceholder(agents.length ? pick : none)
    }
    this.renderAgentBar()
  }

  /**
   * An agent's terminal heard from the server that its session is gone: the page says so and
   * drops it now, not when the next list comes (which the server sends once its watcher has read
   * every agent again, later on a busy machine); that list confirms it.
   */
  private dropGone(id: string): void {
    if (this.agents.has(id)) this.update([...this.agents.values()].filter((agent) => agent.id !== id))
  }

  /** Shows an agent the page itself just made or renamed at once; the next push confirms it. */
  private upsert(agent: Agent): void {
    this.update([...new Map([...this.agents, [agent.id, agent]]).values()])
  }

  private select(name: string, {focus = false} = {}): void {
    if (!this.agents.has(name)) return
    if (name !== this.selected) {
      this.currentView()?.hide()
      this.changes.show(undefined)
    }
    this.selected = name
    history.replaceState(null, '', `#${encodeURIComponent(name)}`)
    this.placeholder.hidden = true
    // The layout around the terminal (notes column, agent bar) settles first, so it is measured once at its final size.
    this.renderAgentBar()
    let view = this.views.get(name)
    if (!view) {
      view = new TerminalView(name, {
        readonly: this.watchOnly,
        transformInput: (data) => this.keybar.consume(data),
        typedWhileReadonly: () => this.tellReadonly(),
        pageOnline: () => this.root.dataset.connection === 'online',
        gone: (id) => this.dropGone(id),
      })
      this.views.set(name, view)
      this.stage.append(view.element)
    }
    view.show()
    if (focus) view.focus()
    this.sidebar.setSelected(name)
    this.notes.show(name)
    this.toggleDrawer(false)
  }

  private showPlaceholder(message: string): void {
    this.currentView()?.hide()
    this.changes.show(undefined)
    this.selected = undefined
    this.sidebar.setSelected(undefined)
    this.notes.show(undefined)
    this.placeholder.hidden = false
    setText(this.placeholder, message)
    this.renderAgentBar()
  }

  private renderAgentBar(): void {
    const agent = this.selected ? this.agents.get(this.selected) : undefined
    this.agentBar.render(agent, this.changes.open)
    this.root.classList.toggle('no-agent', !agent)
  }

  private move(step: 1 | -1): void {
    const order = this.sidebar.order()
    if (order.length === 0) return
    const index = this.selected ? order.indexOf(this.selected) : -1
    const next = index === -1 ? (step === 1 ? 0 : order.length - 1) : (index + step + order.length) % order.length
    this.select(order[next], {focus: true})
  }

  private online(): void {
    if (this.wasOnline) {
      // A server restarted with other flags serves a different page; start over from it.
      void api.session().then((session) => {
        if (session.readonly !== this.session.readonly) location.reload()
      }, () => undefined)
      this.currentView()?.reconnect()
      this.notes.resume()
    }
    this.wasOnline = true
  }

  private toggleDrawer(open?: boolean): void {
    this.root.classList.toggle('drawer-open', open)
  }

  /**
   * On a phone the notes are a sheet below the terminal, closed by default; on a wider screen a
   * column, open by default unless the screen is narrow.
   */
  private toggleNotes(): void {
    if (PHONE.matches) this.root.classList.toggle('notes-open')
    else localStorage.setItem(NOTES_HIDDEN_KEY, this.root.classList.toggle('notes-hidden') ? '1' : '0')
    this.showNotesState()
  }

  private showNotesState(): void {
    this.agentBar.notesShown(PHONE.matches ? this.root.classList.contains('notes-open') : !this.root.classList.contains('notes-hidden'))
  }

  /** Keys typed into a view that sends nothing vanish: say why, once per page. */
  private tellReadonly(): void {
    if (this.toldReadonly) return
    this.toldReadonly = true
    toast(this.session.readonly ? 'This server is read-only (maestro serve --readonly): what you type is not sent to the agent.' : 'This share link lets you watch only: what you type is not sent to the agent.')
  }

  /** Lays what the agent changed over its terminal, or takes it away again. */
  private toggleChanges(): void {
    const agent = this.selected ? this.agents.get(this.selected) : undefined
    this.changes.show(this.changes.open || !agent?.worktree ? undefined : agent.id)
    this.renderAgentBar()
    if (!this.changes.open) this.currentView()?.focus()
  }

  private createAgent(): void {
    if (!this.manages) return
    formDialog({
      title: 'New agent',
      action: 'Start',
      fields: [
        {name: 'name', label: 'Name', required: true, validate: nameProblem, hint: NAME_HINT},
        {name: 'dir', label: 'Directory', hint: 'On the machine maestro serve runs on; empty: the directory it was started in.'},
        {name: 'cmd', label: 'Command', hint: 'Empty: the defaultCommand setting, else a shell.'},
        {name: 'note', label: 'Note', multiline: true},
      ],
      submit: async ({name, dir, cmd, note}) => {
        const agent = await api.create({name, dir: dir || undefined, cmd: cmd || undefined, note: note || undefined})
        this.upsert(agent)
        this.select(agent.id, {focus: true})
      },
    })
  }

  private renameAgent(): void {
    const from = this.selected
    if (!from || !this.manages) return
    formDialog({
      title: `Rename ${from}`,
      action: 'Rename',
      fields: [{name: 'name', label: 'New name', value: from, required: true, validate: nameProblem, hint: NAME_HINT}],
      submit: async ({name}) => {
        const agent = await api.rename(from, name)
        this.followRename(from, agent.id)
        this.upsert(agent)
        this.select(agent.id, {focus: true})
      },
    })
  }

  /** Moves an agent's terminal, note and selection to its new name, so nothing closes. */
  private followRename(from: string, to: string): void {
    const view = this.views.get(from)
    if (view) {
      view.renamed(to)
      this.views.delete(from)
      this.views.set(to, view)
    }
    this.notes.rename(from, to)
    const agent = this.agents.get(from)
    this.agents.delete(from)
    if (agent) this.agents.set(to, {...agent, id: to, name: parseAgentId(to).name})
    if (this.selected === from) {
      // Selected under its new name first, so the next list does not announce it gone.
      this.selected = to
      history.replaceState(null, '', `#${encodeURIComponent(to)}`)
      this.sidebar.setSelected(to)
    }
  }

  /** The old terminal ended with the program; a fresh one attaches to the new run. */
  private async restartAgent(): Promise<void> {
    const name = this.selected
    if (!name || !this.manages) return
    try {
      const agent = await api.restart(name)
      this.views.get(name)?.dispose()
      this.views.delete(name)
      this.upsert(agent)
      this.select(name, {focus: true})
    } catch (error) {
      toast(`Could not restart ${name}: ${error instanceof Error ? error.message : String(error)}`)
    }
  }

  private killAgent(): void {
    const name = this.selected
    if (!name || !this.manages) return
    formDialog({
      title: `Kill ${name}?`,
      body: 'This ends its session. Its scrollback and note are saved to the archive first.',
      action: 'Kill',
      danger: true,
      fields: [],
      submit: async () => {
        this.killing.add(name)
        const {archive, worktree} = await api.kill(name).finally(() => this.killing.delete(name))
        const kept = worktree?.kept ? ` Its worktree ${worktree.path} (branch ${worktree.branch}: ${worktree.summary}) was kept.` : ''
        toast(`Killed ${name}. Archived in ${archive}.${kept}`)
        this.notes.forget(name)
        this.selected = undefined
        this.agents.delete(name)
        this.update([...this.agents.values()])
      },
    })
  }
}

async function boot(): Promise<void> {
  try {
    new App(await api.session())
  } catch (error) {
    const message =
      error instanceof ApiError && error.code === 'UNAUTHORIZED'
        ? 'This browser is not signed in. Open the link that maestro serve printed (it carries a one-time token).'
        : `maestro serve cannot be reached (${error instanceof Error ? error.message : String(error)}). Reload once it runs.`
    document.body.append(h('div', {class: 'fatal'}, h('h1', {}, 'maestro'), h('p', {}, message)))
  }
}

void boot()

/** Signed in with a share link: which role, and until when it works. */
function grantBadge(grant: NonNullable<SessionInfo['grant']>): HTMLElement {
  const until = new Date(grant.expiresAt)
  const what = grant.role === 'viewer' ? 'you can watch these agents and read their notes' : 'you can watch, type into and edit the notes of these agents'
  return h(
    'span',
    {class: `badge grant ${grant.role}`, title: `Share link${grant.label ? ` "${grant.label}"` : ''}: ${what}, until ${until.toLocaleString()}.`},
    `${grant.role} · until ${until.toLocaleString([], {month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit'})}`,
  )
}
