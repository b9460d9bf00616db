import {access, readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {MaestroError} from '../shared/errors.js'
import {configDir, ensurePrivateDir, writePrivateFile} from './files.js'
import {withLock} from './lock.js'

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

/** One limit for every way in (CLI argument, --file, the page): a note is prose, not a dump. */
export const MAX_NOTE_BYTES = 1024 * 1024

/** A copy of the notes as they were after the last write that succeeded, for repairs. */
export function lastGoodPath(): string {
  return `${notesPath()}.last-good`
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
    const lastGood = lastGoodPath()
    const copy = await access(lastGood).then(
      () => `; the last good version is ${lastGood}`,
      () => '',
    )
    throw new MaestroError('NOTES_CORRUPT', `notes file ${path} is not valid; fix or move it aside (nothing was changed)${copy}`, {
      path,
      lastGood: copy ? lastGood : null,
    })
  }
}

/**
 * Runs a read-modify-write under the notes lock (see lock.ts), so a CLI and a running server
 * writing at once both land. `check` runs under the lock once the notes were read, for rules
 * that must still hold when the write lands (the agent still exists), or for the change of
 * the agent itself that the notes follow (a rename).
 */
async function update<T>(change: (file: NotesFile) => T, check?: () => Promise<void>): Promise<T> {
  const path = notesPath()
  await ensurePrivateDir(configDir())
  return withLock(path, async () => {
    const file = await load(path)
    await check?.()
    const result = change(file)
    await save(file)
    return result
  })
}

async function save(file: NotesFile): Promise<void> {
  const content = `${JSON.stringify(file, null, 2)}\n`
  await writePrivateFile(notesPath(), content)
  await writePrivateFile(lastGoodPath(), content)
}

/** The notes for a listing, or why they cannot be read; listing goes on without them. */
export async function readNotesForListing(): Promise<{notes: Record<string, Note>; problem?: MaestroError}> {
  try {
    return {notes: await readAllNotes()}
  } catch (error) {
    if (error instanceof MaestroError && error.code === 'NOTES_CORRUPT') return {notes: {}, problem: error}
    throw error
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
export async function writeNote(name: string, text: string, options: {expectedRevision?: number; check?: () => Promise<void>} = {}): Promise<Note> {
  assertNoteSize(text)
  return update((file) => {
    const current = file.notes[name] ?? EMPTY_NOTE
    if (options.expectedRevision !== undefined && options.expectedRevision !== current.revision) {
      throw new MaestroError('NOTE_CONFLICT', `the note of "${name}" changed since revision ${options.expectedRevision}`, {
        current,
      })
    }
    return setNote(file, name, text, current.revision)
  }, options.check)
}

/** Adds a timestamped line, keeping whatever is already there. */
export async function appendNote(name: string, line: string, options: {now?: Date; check?: () => Promise<void>} = {}): Promise<Note> {
  const now = options.now ?? new Date()
  return update((file) => {
    const current = file.notes[name] ?? EMPTY_NOTE
    const entry = `[${now.toISOString().slice(0, 16).replace('T', ' ')}] ${line}`
    const text = current.text ? `${current.text.replace(/\n+$/, '')}\n${entry}` : entry
    assertNoteSize(text)
    return setNote(file, name, text, current.revision)
  }, options.check)
}

/**
 * Hands the note to `keep` (which archives it and ends the agent) and removes it only once
 * `keep` succeeded, all under the lock: no save can land in between and be lost. A note that
 * cannot be read (corrupt file) is handed over as undefined and left where it is.
 */
export async function takeNote<T>(name: string, keep: (note: Note | undefined) => Promise<T>): Promise<T> {
  const path = notesPath()
  await ensurePrivateDir(configDir())
  return withLock(path, async () => {
    let file: NotesFile
    try {
      file = await load(path)
    } catch (error) {
      if (error instanceof MaestroError && error.code === 'NOTES_CORRUPT') return keep(undefined)
      throw error
    }
    const result = await keep(file.notes[name] ?? EMPTY_NOTE)
    if (file.notes[name]) {
      delete file.notes[name]
      await save(file)
    }
    return result
  })
}

export function assertNoteSize(text: string): void {
  const bytes = Buffer.byteLength(text)
  if (bytes > MAX_NOTE_BYTES) {
    throw new MaestroError('NOTE_TOO_LARGE', `the note is ${bytes} bytes; notes hold at most ${MAX_NOTE_BYTES} bytes (1 MiB)`, {
      bytes,
      limit: MAX_NOTE_BYTES,
    })
  }
}

/** Moves a note to an agent's new name, keeping its revision history. */
export async function moveNote(from: string, to: string, check?: () => Promise<void>): Promise<void> {
  await update((file) => {
    const note = file.notes[from]
    delete file.notes[from]
    if (note) file.notes[to] = note
    else delete file.notes[to]
  }, check)
}

function setNote(file: NotesFile, name: string, text: string, revision: number): Note {
  const note = {text, revision: revision + 1, updatedAt: new Date().toISOString()}
  file.notes[name] = note
  return note
}
