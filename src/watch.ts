import {agentsFrom, readScreens} from './agents.js'
import {screenTable} from './attention/screens.js'
import {StateMemory} from './attention/state.js'
import type {Dirs} from './context.js'
import {ACTIVE_WINDOW_MS, type Agent} from './shared/agent.js'
import {NotesReader} from './store/notes.js'
import type {Tmux, TmuxExec} from './tmux/client.js'
import {ControlClient} from './tmux/control.js'
import {type SessionInfo, listSessions} from './tmux/sessions.js'

export type Listener = (agents: Agent[]) => void
export type ErrorListener = (error: Error) => void
export type RenameListener = (from: string, to: string) => void
/** Hears the names (ids, from a FleetWatcher) of agents whose window changed size. */
export type ResizeListener = (names: string[]) => void

/**
 * Who listens to a watcher. Each listener hears a list when it subscribes and afterwards only
 * when the list differs from the last one it heard; after a failed read, the next one that works.
 */
export class Audience {
  readonly #listeners = new Map<Listener, string>()
  readonly #errorListeners = new Set<ErrorListener>()
  readonly #renameListeners = new Set<RenameListener>()

  /** The returned function removes the listener, and calls `emptied` when nobody is left. */
  add(listener: Listener, onError: ErrorListener | undefined, emptied: () => void): () => void {
    this.#listeners.set(listener, '')
    if (onError) this.#errorListeners.add(onError)
    return () => {
      this.#listeners.delete(listener)
      if (onError) this.#errorListeners.delete(onError)
      if (this.#listeners.size === 0) emptied()
    }
  }

  onRename(listener: RenameListener): () => void {
    this.#renameListeners.add(listener)
    return () => this.#renameListeners.delete(listener)
  }

  get size(): number {
    return this.#listeners.size
  }

  /** `json` is the state told, as compared with what each listener heard last. */
  tell(agents: Agent[], json: string): void {
    for (const [listener, heard] of this.#listeners) {
      if (heard === json) continue
      this.#listeners.set(listener, json)
      listener(agents)
    }
  }

  renamed(from: string, to: string): void {
    for (const listener of this.#renameListeners) listener(from, to)
  }

  failed(error: Error): void {
    for (const listener of this.#listeners.keys()) this.#listeners.set(listener, '')
    for (const onError of this.#errorListeners) onError(error)
  }

  clear(): void {
    this.#listeners.clear()
    this.#errorListeners.clear()
  }
}

/** How often the list is read anyway while tmux tells of changes: a safety net, and notes edited elsewhere. */
const SAFETY_POLL_MS = 10_000
/**
 * How often at most the screen of an agent that prints without a pause is read again: tmux tells
 * of its output every second, and reading every such screen each time was most of serve's work.
 */
const SCREEN_PACE_MS = 3000
/** How often the list is read while there is no tmux server to tell of changes (none running yet). */
const OFFLINE_POLL_MS = 1000

/**
 * Keeps the agent list current for whoever listens (serve, ls --watch, wait), and only while
 * someone does. tmux itself says when something changed, through one control-mode client
 * (ControlClient): screens are read only for agents whose output changed, and the list is read
 * again only on a structural change, a report, or the slow safety poll. When the tmux server
 * ends, the list empties and the watcher connects again once agents exist.
 * Each listener hears the list when it subscribes and afterwards only when it changed since it
 * last heard it. It remembers since when each agent is in its state.
 */
export class AgentWatcher {
  readonly #audience = new Audience()
  /** Also the facts of each screen: screens are read again only for agents that printed since. */
  readonly #memory = new StateMemory('', SCREEN_PACE_MS)
  readonly #notes: NotesReader
  #control: ControlClient | undefined
  #poll: NodeJS.Timeout | undefined
  #expiry: NodeJS.Timeout | undefined
  #sessions: SessionInfo[] = []
  #next: SessionInfo[] | 'list' | undefined
  #running: Promise<void> | undefined
  #latest: Agent[] = []
  #notesProblem: string | null = null
  readonly #notesListeners = new Set<() => void>()
  readonly #resizeListeners = new Set<ResizeListener>()

  /** `dirs` hold the notes and the screen patterns agents are listed with. */
  constructor(
    private readonly tmux: Tmux,
    private readonly dirs: Dirs,
    private readonly offlinePollMs = OFFLINE_POLL_MS,
  ) {
    this.#notes = new NotesReader(dirs)
  }

  /** `onError` hears reads that failed; the watcher itself tries again. */
  subscribe(listener: Listener, onError?: ErrorListener): () => void {
    const remove = this.#audience.add(listener, onError, () => void this.stop())
    if (!this.#poll) this.#schedulePoll()
    void this.refresh()
    return remove
  }

  /**
   * Hears agents renamed anywhere (the page, the CLI, tmux itself), told apart from an agent that
   * ended and another that began by their pane, before the list that shows the new name.
   */
  onRename(listener: RenameListener): () => void {
    return this.#audience.onRename(listener)
  }

  /** Hears windows resized by any tmux client, while someone subscribes (the control client tells). */
  onResize(listener: ResizeListener): () => void {
    this.#resizeListeners.add(listener)
    return () => this.#resizeListeners.delete(listener)
  }

  get latest(): readonly Agent[] {
    return this.#latest
  }

  /** Why the notes could not be read at the last reading (NOTES_CORRUPT's message), or null. */
  get notesProblem(): string | null {
    return this.#notesProblem
  }

  /** Hears the notes becoming unreadable, or readable again. */
  onNotesProblem(listener: () => void): () => void {
    this.#notesListeners.add(listener)
    return () => this.#notesListeners.delete(listener)
  }

  /**
   * Reads the list now (after a change made through the API, say) and tells whoever has not
   * heard it; resolves once that is done.
   */
  refresh(): Promise<void> {
    return this.#request('list')
  }

  #request(source: SessionInfo[] | 'list'): Promise<void> {
    // Requests that pile up while one is applied collapse into the newest; a list beats a snapshot.
    this.#next = source === 'list' || this.#next === 'list' ? 'list' : source
    this.#running ??= this.#drain().finally(() => {
      this.#running = undefined
    })
    return this.#running
  }

  async #drain(): Promise<void> {
    while (this.#next && this.#audience.size > 0) {
      const source = this.#next
      this.#next = undefined
      try {
        await this.#apply(source === 'list' ? await listSessions(this.#reader) : source)
      } catch (error) {
        this.#audience.failed(error as Error)
      }
    }
    this.#next = undefined
  }

  async #apply(sessions: SessionInfo[]): Promise<void> {
    const before = new Map(this.#sessions.map((session) => [session.paneId, session.name]))
    this.#sessions = sessions
    for (const session of sessions) {
      const from = before.get(session.paneId)
      if (from !== undefined && from !== session.name) this.#audience.renamed(from, session.name)
    }
    // Only while someone listens: a read still under way when the last listener left must not reconnect.
    if (!this.#control && sessions.length > 0 && this.#audience.size > 0) this.#connect()
    // A notes file that cannot be read leaves the agents listed without notes, as in ls.
    const [{notes, problem}, table] = await Promise.all([this.#notes.read(), screenTable(this.dirs)])
    if ((problem?.message ?? null) !== this.#notesProblem) {
      this.#notesProblem = problem?.message ?? null
      for (const listener of this.#notesListeners) listener()
    }
    const screens = await readScreens(this.#reader, sessions, table, this.#memory)
    const now = Date.now()
    this.#latest = agentsFrom({tmux: this.tmux, sessions, notes, screens, now}, this.#memory)
    this.#scheduleExpiry(now)
    this.#audience.tell(this.#latest, JSON.stringify(this.#latest))
  }

  /**
   * An agent that printed recently turns idle ACTIVE_WINDOW_MS after its last output, and a screen
   * held back by the pace is due, with no event to say so.
   */
  #scheduleExpiry(now: number): void {
    clearTimeout(this.#expiry)
    const held = this.#memory.takeHeld()
    const ends = this.#sessions
      .filter((session) => !session.dead)
      .map((session) => session.lastActivityAt.getTime() + ACTIVE_WINDOW_MS)
      .concat(held === undefined ? [] : [held])
      .filter((end) => end > now)
    if (ends.length === 0) return
    this.#expiry = setTimeout(() => void this.#request(this.#sessions), Math.min(...ends) - now + 50)
  }

  /** The control client, while connected, reads without starting a tmux process each time. */
  get #reader(): TmuxExec {
    return this.#control ?? this.tmux
  }

  #connect(): void {
    const control = new ControlClient(this.tmux, {
      snapshot: (sessions) => void this.#request(sessions),
      changed: () => void this.#request('list'),
      resized: (names) => {
        for (const listener of this.#resizeListeners) listener(names)
      },
      closed: () => {
        if (this.#control !== control) return
        this.#control = undefined
        if (this.#audience.size === 0) return
        // The tmux server ended (or restarted): show what is true now, then poll until it is back.
        this.#schedulePoll()
        void this.#request('list')
      },
    })
    this.#control = control
    this.#schedulePoll()
  }

  #schedulePoll(): void {
    clearInterval(this.#poll)
    this.#poll = setInterval(() => void this.#request('list'), this.#control ? SAFETY_POLL_MS : this.offlinePollMs)
  }

  /**
   * Stops watching; resolves once the control client (and its session) are gone. Rename
   * listeners stay: they hear renames again once someone subscribes.
   */
  async stop(): Promise<void> {
    this.#audience.clear()
    clearInterval(this.#poll)
    clearTimeout(this.#expiry)
    this.#poll = undefined
    const control = this.#control
    this.#control = undefined
    await control?.close()
  }
}
