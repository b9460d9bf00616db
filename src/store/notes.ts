import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {MaestroError} from '../shared/errors.js'
import {configDir, ensurePrivateDir, writePrivateFile} from './files.js'

/** A note and the revision a writer must name to replace it without losing someone else's edit. */
export interface Note {
  text: string
  revision: number
  updatedAt: string | null
}

interface NotesFile {
  version: 1
  notes: Record<string, {text: string; revision: number; updatedAt: string}>
}

const EMPTY_NOTE: Note = {text: '', revision: 0, updatedAt: null}

export function notesPath(): string {
  return join(configDir(), 'notes.json')
}

/**
 * Notes are kept as a small JSON file rather than through `conf`: `maestro ls` reads them on every
 * call, and loading conf's schema validator would cost more than the rest of `ls` together.
 */
async function load(path: string): Promise<NotesFile> {
  let raw: string
  try {
    raw = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {version: 1, notes: {}}
    throw error
  }
  try {
    const parsed = JSON.parse(raw) as NotesFile
    if (parsed?.version !== 1 || typeof parsed.notes !== 'object' || parsed.notes === null) throw new Error('unexpected shape')
    return parsed
  } catch {
    // Never start over with an empty file: that would silently destroy every note.
    throw new MaestroError(
      'NOTES_CORRUPT',
      `notes file ${path} is not valid; fix or move it aside (nothing was changed)`,
      {path},
    )
  }
}

/**
 * Runs a read-modify-write under a lock, so a CLI and a running server writing at once both
 * land. The lock is a directory beside the file; a holder that died is taken over after `stale`.
 */
async function update<T>(change: (file: NotesFile) => T): Promise<T> {
  const path = notesPath()
  await ensurePrivateDir(configDir())
  // Loaded here, not at the top: `maestro ls` only reads notes and should not pay for it.
  const {default: lockfile} = await import('proper-lockfile')
  let release: () => Promise<void>
  try {
    release = await lockfile.lock(path, {
      realpath: false,
      stale: 10_000,
      retries: {retries: 200, factor: 1.2, minTimeout: 5, maxTimeout: 100, randomize: true},
    })
  } catch {
    throw new MaestroError('STORE_LOCKED', `notes file ${path} stayed locked by another maestro process; try again`)
  }
  try {
    const file = await load(path)
    const result = change(file)
    await writePrivateFile(path, `${JSON.stringify(file, null, 2)}\n`)
    return result
  } finally {
    await release()
  }
}

export async function readNote(name: string): Promise<Note> {
  const file = await load(notesPath())
  return file.notes[name] ?? EMPTY_NOTE
}

export async function readAllNotes(): Promise<Record<string, Note>> {
  return (await load(notesPath())).notes
}

/**
 * Replaces a note. With `expectedRevision`, refuses (NOTE_CONFLICT, carrying the current note)
 * when someone else saved in between, so two editors never overwrite each other silently.
 */
export async function writeNote(name: string, text: string, options: {expectedRevision?: number} = {}): Promise<Note> {
  return update((file) => {
    const current = file.notes[name] ?? EMPTY_NOTE
    if (options.expectedRevision !== undefined && options.expectedRevision !== current.revision) {
      throw new MaestroError('NOTE_CONFLICT', `the note of "${name}" changed since revision ${options.expectedRevision}`, {
        current,
      })
    }
    return setNote(file, name, text, current.revision)
  })
}

/** Adds a timestamped line, keeping whatever is already there. */
export async function appendNote(name: string, line: string, now = new Date()): Promise<Note> {
  return update((file) => {
    const current = file.notes[name] ?? EMPTY_NOTE
    const entry = `[${now.toISOString().slice(0, 16).replace('T', ' ')}] ${line}`
    const text = current.text ? `${current.text.replace(/\n+$/, '')}\n${entry}` : entry
    return setNote(file, name, text, current.revision)
  })
}

/** Removes a note and returns what it held, for the archive. */
export async function takeNote(name: string): Promise<Note> {
  return update((file) => {
    const current = file.notes[name] ?? EMPTY_NOTE
    delete file.notes[name]
    return current
  })
}

/** Moves a note to an agent's new name, keeping its revision history. */
export async function moveNote(from: string, to: string): Promise<void> {
  await update((file) => {
    const note = file.notes[from]
    delete file.notes[from]
    if (note) file.notes[to] = note
    else delete file.notes[to]
  })
}

function setNote(file: NotesFile, name: string, text: string, revision: number): Note {
  const note = {text, revision: revision + 1, updatedAt: new Date().toISOString()}
  file.notes[name] = note
  return note
}
