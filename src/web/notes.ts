import type {Note} from '../shared/protocol.js'
import {ApiError, api} from './api.js'
import {h, setText} from './dom.js'

/** Long enough not to save on every keystroke, short enough that a closed tab loses nothing. */
const AUTOSAVE_MS = 800

interface NoteState {
  name: string
  /** What the user sees and edits. */
  text: string
  /** The server's revision `text` was based on; a save names it so concurrent edits are detected. */
  revision: number
  /** The text the server holds at `revision`. */
  savedText: string
  savedAt: string | null
  loaded: boolean
  saving: boolean
  /** The server's version after a save was refused because it changed elsewhere. */
  conflict?: Note
  error?: string
  /** The server will refuse this text whatever happens: retrying cannot help, editing can. */
  refused?: boolean
  timer?: ReturnType<typeof setTimeout>
}

const dirty = (state: NoteState) => state.text !== state.savedText

function clock(iso: string | null): string {
  return iso ? new Date(iso).toLocaleTimeString([], {hour: '2-digit', minute: '2-digit', second: '2-digit'}) : ''
}

/**
 * The selected agent's note, the same note `maestro note` shows. Each agent keeps its own draft
 * and save timer, so switching agents mid-edit saves the draft instead of dropping it.
 */
export class NotesPanel {
  readonly element: HTMLElement
  private readonly textarea: HTMLTextAreaElement
  private readonly status: HTMLElement
  private readonly conflictBox: HTMLElement
  private readonly theirs: HTMLTextAreaElement
  private readonly theirsLabel: HTMLElement
  private readonly states = new Map<string, NoteState>()
  private current?: NoteState

  constructor(private readonly readonly: boolean) {
    this.textarea = h('textarea', {
      class: 'note-text',
      'aria-label': 'Note',
      placeholder: readonly ? 'No note.' : 'What is this agent doing? Notes save on their own.',
      spellcheck: 'true',
      readonly,
    })
    this.status = h('p', {class: 'note-status', role: 'status', 'aria-live': 'polite'})
    this.theirs = h('textarea', {class: 'note-text theirs', readonly: true, 'aria-label': 'The other version'})
    this.theirsLabel = h('p', {class: 'conflict-label'})
    const keepBoth = h('button', {type: 'button', class: 'primary'}, 'Keep both')
    const keepMine = h('button', {type: 'button'}, 'Keep mine')
    const useTheirs = h('button', {type: 'button'}, 'Use the other')
    this.conflictBox = h(
      'div',
      {class: 'conflict', hidden: true, role: 'alert'},
      h('strong', {}, 'This note changed elsewhere while you edited it.'),
      h('p', {}, 'Yours stays above, the other version below; nothing is saved over either until you choose.'),
      this.theirsLabel,
      this.theirs,
      h('div', {class: 'row'}, keepBoth, keepMine, useTheirs),
    )
    keepBoth.addEventListener('click', () => this.resolve((mine, other) => `${mine.trimEnd()}\n\n${other.trimStart()}`))
    keepMine.addEventListener('click', () => this.resolve((mine) => mine))
    useTheirs.addEventListener('click', () => this.resolve((_mine, other) => other))
    this.textarea.addEventListener('input', () => this.edited())
    this.textarea.addEventListener('blur', () => this.current && this.saveSoon(this.current, 0))
    this.element = h('section', {class: 'notes', id: 'notes', 'aria-label': 'Notes'}, h('h2', {}, 'Notes'), this.textarea, this.status, this.conflictBox)
  }

  show(name: string | undefined): void {
    this.current = name ? this.stateFor(name) : undefined
    // First time shown, or an earlier load failed.
    if (this.current && !this.current.loaded) void this.load(this.current)
    this.render()
  }

  /** The note text the server pushed for an agent; refetches when it changed and the user has no draft. */
  remoteText(name: string, text: string): void {
    const state = this.states.get(name)
    if (state?.loaded && !dirty(state) && !state.saving && text !== state.savedText) void this.load(state)
  }

  rename(from: string, to: string): void {
    const state = this.states.get(from)
    if (!state) return
    this.states.delete(from)
    state.name = to
    this.states.set(to, state)
  }

  forget(name: string): void {
    const state = this.states.get(name)
    clearTimeout(state?.timer)
    this.states.delete(name)
    if (this.current === state) this.show(undefined)
  }

  /** After a reconnection: retry failed saves and pick up notes changed meanwhile. */
  resume(): void {
    for (const state of this.states.values()) {
      if (state.loaded && dirty(state)) this.saveSoon(state, 0)
      else void this.load(state)
    }
  }

  /** Saves every draft while the page unloads; `keepalive` lets the requests outlive the page. */
  flush(): void {
    for (const state of this.states.values()) {
      if (state.loaded && dirty(state) && !state.conflict) void api.saveNote(state.name, state.text, state.revision, true).catch(() => undefined)
    }
  }

  private stateFor(name: string): NoteState {
    let state = this.states.get(name)
    if (!state) {
      state = {name, text: '', revision: 0, savedText: '', savedAt: null, loaded: false, saving: false}
      this.states.set(name, state)
    }
    return state
  }

  private async load(state: NoteState): Promise<void> {
    try {
      const note = await api.note(state.name)
      // The user may have started typing while the request was out; their draft wins.
      if (state.loaded && dirty(state)) return
      Object.assign(state, {text: note.text, savedText: note.text, revision: note.revision, savedAt: note.updatedAt, loaded: true, error: undefined})
    } catch (error) {
      // A failed refresh leaves the note as it was; only a note never loaded has nothing to show.
      if (!state.loaded) state.error = error instanceof ApiError ? error.message : String(error)
    }
    if (state === this.current) this.render()
  }

  private edited(): void {
    const state = this.current
    if (!state || !state.loaded) return
    state.text = this.textarea.value
    this.saveSoon(state, AUTOSAVE_MS)
    this.renderStatus()
  }

  private saveSoon(state: NoteState, delay: number): void {
    clearTimeout(state.timer)
    state.timer = setTimeout(() => void this.save(state), delay)
  }

  private async save(state: NoteState): Promise<void> {
    if (this.readonly || !state.loaded || state.saving || state.conflict || !dirty(state)) return
    state.saving = true
    const text = state.text
    this.renderIf(state)
    try {
      const note = await api.saveNote(state.name, text, state.revision)
      Object.assign(state, {revision: note.revision, savedText: note.text, savedAt: note.updatedAt, error: undefined})
    } catch (error) {
      if (error instanceof ApiError && error.code === 'NOTE_CONFLICT' && error.details.current) {
        state.conflict = error.details.current as Note
      } else {
        state.error = error instanceof ApiError ? error.message : String(error)
        state.refused = error instanceof ApiError && error.code === 'NOTE_TOO_LARGE'
      }
    } finally {
      state.saving = false
    }
    // Typing went on during the request: save the rest.
    if (dirty(state) && !state.conflict && !state.error) this.saveSoon(state, AUTOSAVE_MS)
    this.renderIf(state)
  }

  private resolve(merge: (mine: string, other: string) => string): void {
    const state = this.current
    const other = state?.conflict
    if (!state || !other) return
    state.text = merge(state.text, other.text)
    state.revision = other.revision
    state.savedText = other.text
    state.savedAt = other.updatedAt
    state.conflict = undefined
    state.error = undefined
    this.render()
    this.saveSoon(state, 0)
  }

  private renderIf(state: NoteState): void {
    if (state === this.current) this.renderStatus()
  }

  private render(): void {
    const state = this.current
    this.element.hidden = !state
    if (!state) return
    if (this.textarea.value !== state.text) this.textarea.value = state.text
    this.textarea.disabled = !state.loaded
    this.renderStatus()
  }

  private renderStatus(): void {
    const state = this.current
    if (!state) return
    this.conflictBox.hidden = !state.conflict
    if (state.conflict) {
      if (this.theirs.value !== state.conflict.text) this.theirs.value = state.conflict.text
      setText(this.theirsLabel, `The other version${state.conflict.updatedAt ? `, saved at ${clock(state.conflict.updatedAt)}` : ''}:`)
    }
    this.status.classList.toggle('error', Boolean(state.error || state.conflict))
    setText(this.status, this.statusText(state))
  }

  private statusText(state: NoteState): string {
    if (this.readonly) return 'Read-only server: notes cannot be changed here.'
    if (!state.loaded) return state.error ? `Could not load the note: ${state.error}` : 'Loading…'
    if (state.conflict) return 'Not saved: choose how to combine the two versions.'
    if (state.error) return state.refused ? `Not saved: ${state.error}. Shorten it to save.` : `Not saved: ${state.error}. It will be retried.`
    if (state.saving) return 'Saving…'
    if (dirty(state)) return 'Editing…'
    return state.savedAt ? `Saved at ${clock(state.savedAt)}` : 'Notes save on their own as you type.'
  }
}
