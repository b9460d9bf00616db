import {access} from 'node:fs/promises'
import {join} from 'node:path'

import type {Dirs} from '../context.js'
import {MaestroError} from '../shared/errors.js'
import {ensurePrivateDir, fileStamp} from './files.js'
import {readJsonFile, writeJsonFile} from './json-file.js'
import {withLock} from './lock.js'
import type {SealedText, Sealing} from './sealing.js'

/** A note and the revision a writer must name to replace it without losing someone else's edit. */
export interface Note {
  text: string
  revision: number
  updatedAt: string | null
}

/** A note as listed: `locked` when the notes are encrypted and no passphrase was given. */
export interface ListedNote extends Note {
  locked?: true
}

/** A note as the archive keeps it: its text, or still sealed when the notes are encrypted. */
export type KeptNote = {text: string} | SealedText

/**
 * Version 1 keeps each note's text; version 2 (encryptNotes on) keeps it sealed, with the
 * parameters to open it. Names, revisions and times stay readable, so renames, kills and
 * listings work without the passphrase.
 */
interface NotesFile {
  version: 1 | 2
  sealing?: Sealing
  notes: Record<string, StoredNote>
}

interface StoredNote {
  text?: string
  sealed?: string
  revision: number
  updatedAt: string
}

const EMPTY_NOTE: Note = {text: '', revision: 0, updatedAt: null}

export function notesPath(dirs: Dirs): string {
  return join(dirs.configDir, 'notes.json')
}

/** One limit for every way in (CLI argument, --file, the page): a note is prose, not a dump. */
export const MAX_NOTE_BYTES = 1024 * 1024

/** A copy of the notes as they were after the last write that succeeded, for repairs. */
export function lastGoodPath(dirs: Dirs): string {
  return `${notesPath(dirs)}.last-good`
}

async function load(dirs: Dirs): Promise<NotesFile> {
  const path = notesPath(dirs)
  return readJsonFile<NotesFile>({
    path,
    empty: () => ({version: 1, notes: {}}),
    check(value) {
      const parsed = value as NotesFile
      if (typeof parsed?.notes !== 'object' || parsed.notes === null) throw new Error('unexpected shape')
      if (parsed.version !== 1 && !(parsed.version === 2 && typeof parsed.sealing?.salt === 'string')) throw new Error('unexpected shape')
      return parsed
    },
    async corrupt() {
      const lastGood = lastGoodPath(dirs)
      const copy = await access(lastGood).then(
        () => `; the last good version is ${lastGood}`,
        () => '',
      )
      return new MaestroError('NOTES_CORRUPT', `notes file ${path} is not valid; fix or move it aside (nothing was changed)${copy}`, {
        path,
        lastGood: copy ? lastGood : null,
      })
    },
  })
}

/**
 * How note text is kept in one notes file: as it is, or sealed with the notes' key. Listing,
 * renaming and killing never need a codec; reading and writing text does.
 */
interface Codec {
  text(stored: StoredNote, name: string): string
  store(text: string): Pick<StoredNote, 'text' | 'sealed'>
}

const PLAIN: Codec = {text: (stored) => stored.text ?? '', store: (text) => ({text})}

/** The codec of a notes file: for encrypted notes NOTES_LOCKED without a passphrase, WRONG_PASSPHRASE with a wrong one. */
async function codecFor(file: NotesFile): Promise<Codec> {
  if (!file.sealing) return PLAIN
  // node:crypto is loaded only for encrypted notes: `maestro ls` on plain notes never pays for it.
  const {open, requireKey, seal} = await import('./sealing.js')
  const key = await requireKey(file.sealing)
  return {text: (stored, name) => open(key, stored.sealed ?? '', `the note of "${name}"`), store: (text) => ({sealed: seal(key, text)})}
}

/**
 * Runs a read-modify-write under the notes lock (see lock.ts), so a CLI and a running server
 * writing at once both land. `check` runs under the lock once the notes were read, for rules
 * that must still hold when the write lands (the agent still exists), or for the change of
 * the agent itself that the notes follow (a rename). A change that reads or writes text gets
 * the codec; for encrypted notes its key is derived before the lock is taken, so that writers
 * do not queue behind scrypt.
 */
async function update<T>(dirs: Dirs, change: (file: NotesFile, codec: Codec) => T, options: {check?: () => Promise<void>; text?: boolean} = {}): Promise<T> {
  const path = notesPath(dirs)
  await ensurePrivateDir(dirs.configDir)
  if (options.text) {
    const before = await load(dirs).catch(() => undefined)
    if (before) await codecFor(before)
  }
  return withLock(path, async () => {
    const file = await load(dirs)
    const codec = options.text ? await codecFor(file) : PLAIN
    await options.check?.()
    const result = change(file, codec)
    await save(dirs, file)
    return result
  })
}

async function save(dirs: Dirs, file: NotesFile): Promise<void> {
  await writeJsonFile(notesPath(dirs), file)
  await writeJsonFile(lastGoodPath(dirs), file)
}

function noteOf(stored: StoredNote | undefined, codec: Codec, name: string): Note {
  return stored ? {text: codec.text(stored, name), revision: stored.revision, updatedAt: stored.updatedAt} : EMPTY_NOTE
}

/** Every note with its text (NOTES_LOCKED for encrypted notes without a passphrase). */
export async function readAllNotes(dirs: Dirs): Promise<Record<string, Note>> {
  return notesOf(await load(dirs))
}

async function notesOf(file: NotesFile): Promise<Record<string, Note>> {
  const codec = await codecFor(file)
  return Object.fromEntries(Object.entries(file.notes).map(([name, stored]) => [name, noteOf(stored, codec, name)]))
}

export async function readNote(dirs: Dirs, name: string): Promise<Note> {
  const file = await load(dirs)
  const stored = file.notes[name]
  return stored ? noteOf(stored, await codecFor(file), name) : EMPTY_NOTE
}

/**
 * The notes for a listing, or why they cannot be read; listing goes on without them. Encrypted
 * notes without a passphrase are listed as locked, never prompted for: `ls` stays quiet.
 */
export async function readNotesForListing(dirs: Dirs): Promise<NotesListing> {
  let file: NotesFile | undefined
  try {
    file = await load(dirs)
    if (file.sealing && !(await (await import('./sealing.js')).keyOf(file.sealing))) return {notes: locked(file)}
    return {notes: await notesOf(file)}
  } catch (error) {
    if (error instanceof MaestroError && (error.code === 'NOTES_CORRUPT' || error.code === 'WRONG_PASSPHRASE')) {
      return {notes: file?.sealing ? locked(file) : {}, problem: error}
    }
    throw error
  }
}

export interface NotesListing {
  notes: Record<string, ListedNote>
  problem?: MaestroError
}

/**
 * readNotesForListing for a watcher, which lists again and again: the file is read again only
 * once it changed. Every write puts a new file in its place, which one stat tells.
 */
export class NotesReader {
  #stamp: string | undefined
  #last: NotesListing | undefined

  constructor(private readonly dirs: Dirs) {}

  async read(): Promise<NotesListing> {
    const stamp = await fileStamp(notesPath(this.dirs))
    if (this.#last && stamp === this.#stamp) return this.#last
    const listing = await readNotesForListing(this.dirs)
    this.#stamp = stamp
    this.#last = listing
    return listing
  }
}

function locked(file: NotesFile): Record<string, ListedNote> {
  return Object.fromEntries(Object.entries(file.notes).map(([name, stored]) => [name, {text: '', revision: stored.revision, updatedAt: stored.updatedAt, locked: true as const}]))
}

/**
 * Replaces a note. With `expectedRevision`, refuses (NOTE_CONFLICT, carrying the current note)
 * when someone else saved in between, so two editors never overwrite each other silently.
 */
export async function writeNote(dirs: Dirs, name: string, text: string, options: {expectedRevision?: number; check?: () => Promise<void>} = {}): Promise<Note> {
  assertNoteSize(text)
  return update(
    dirs,
    (file, codec) => {
      const current = file.notes[name]
      const revision = current?.revision ?? 0
      if (options.expectedRevision !== undefined && options.expectedRevision !== revision) {
        throw new MaestroError('NOTE_CONFLICT', `the note of "${name}" changed since revision ${options.expectedRevision}`, {
          current: noteOf(current, codec, name),
        })
      }
      return setNote(file, codec, name, text, revision)
    },
    {check: options.check, text: true},
  )
}

/** Adds a timestamped line, keeping whatever is already there. */
export async function appendNote(dirs: Dirs, name: string, line: string, options: {now?: Date; check?: () => Promise<void>} = {}): Promise<Note> {
  const now = options.now ?? new Date()
  return update(
    dirs,
    (file, codec) => {
      const current = noteOf(file.notes[name], codec, name)
      const entry = `[${now.toISOString().slice(0, 16).replace('T', ' ')}] ${line}`
      const text = current.text ? `${current.text.replace(/\n+$/, '')}\n${entry}` : entry
      assertNoteSize(text)
      return setNote(file, codec, name, text, current.revision)
    },
    {check: options.check, text: true},
  )
}

/**
 * Hands the note to `keep` (which archives it and ends the agent) and removes it only once
 * `keep` succeeded, all under the lock: no save can land in between and be lost. An encrypted
 * note is handed over sealed, so a kill needs no passphrase. A note that cannot be read
 * (corrupt file) is handed over as undefined and left where it is.
 */
export async function takeNote<T>(dirs: Dirs, name: string, keep: (note: KeptNote | undefined) => Promise<T>): Promise<T> {
  const path = notesPath(dirs)
  await ensurePrivateDir(dirs.configDir)
  return withLock(path, async () => {
    let file: NotesFile
    try {
      file = await load(dirs)
    } catch (error) {
      if (error instanceof MaestroError && error.code === 'NOTES_CORRUPT') return keep(undefined)
      throw error
    }
    const stored = file.notes[name]
    const result = await keep(stored?.sealed !== undefined && file.sealing ? {sealing: file.sealing, sealed: stored.sealed} : {text: stored?.text ?? ''})
    if (stored) {
      delete file.notes[name]
      await save(dirs, file)
    }
    return result
  })
}

/** Whether a kept note has anything in it (a sealed one always counts: its text is not known here). */
export function keptNoteHasText(note: KeptNote | undefined): boolean {
  return note !== undefined && ('sealed' in note || note.text !== '')
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

/** Moves a note to an agent's new name, keeping its revision history (sealed notes stay sealed). */
export async function moveNote(dirs: Dirs, from: string, to: string, check?: () => Promise<void>): Promise<void> {
  await update(
    dirs,
    (file) => {
      const note = file.notes[from]
      delete file.notes[from]
      if (note) file.notes[to] = note
      else delete file.notes[to]
    },
    {check},
  )
}

function setNote(file: NotesFile, codec: Codec, name: string, text: string, revision: number): Note {
  const updatedAt = new Date().toISOString()
  file.notes[name] = {...codec.store(text), revision: revision + 1, updatedAt}
  return {text, revision: revision + 1, updatedAt}
}

/**
 * Derives the notes' key now, for a process that will read them again and again (the server):
 * `plain` when notes are not encrypted, `locked` without a passphrase, WRONG_PASSPHRASE with a
 * wrong one.
 */
export async function unlockNotes(dirs: Dirs): Promise<'plain' | 'unlocked' | 'locked'> {
  const file = await load(dirs).catch(() => undefined)
  if (!file?.sealing) return 'plain'
  return (await (await import('./sealing.js')).keyOf(file.sealing)) ? 'unlocked' : 'locked'
}

/** Whether notes are kept encrypted (`maestro config encryptNotes`). */
export async function notesEncrypted(dirs: Dirs): Promise<boolean> {
  return (await load(dirs)).sealing !== undefined
}

/**
 * Turns encryption of every note, and of every archived note, on or off. Everything is read
 * (and, turning off, opened) before anything is written, so a missing or wrong passphrase
 * changes nothing; each file is replaced atomically, so a crash leaves every note either as it
 * was or converted, and running the command again finishes the job. Returns how many notes and
 * archived notes were converted.
 */
export async function setNotesEncryption(dirs: Dirs, on: boolean): Promise<{notes: number; archived: number}> {
  const path = notesPath(dirs)
  await ensurePrivateDir(dirs.configDir)
  const sealing = await import('./sealing.js')
  const archive = await import('./archive.js')
  return withLock(path, async () => {
    const file = await load(dirs)
    const texts = Object.entries(await readAllNotes(dirs))
    let converted = 0
    if (on) {
      let keyed: {sealing: Sealing; key: Buffer}
      if (file.sealing) keyed = {sealing: file.sealing, key: await sealing.requireKey(file.sealing)}
      else {
        keyed = await sealing.newSealing()
        const notes = Object.fromEntries(texts.map(([name, note]) => [name, {sealed: sealing.seal(keyed.key, note.text), revision: note.revision, updatedAt: note.updatedAt!}]))
        await save(dirs, {version: 2, sealing: keyed.sealing, notes})
        converted = texts.length
      }
      return {notes: converted, archived: await archive.sealArchivedNotes(dirs, keyed.sealing, keyed.key)}
    }
    const archived = await archive.openArchivedNotes(dirs)
    if (file.sealing) {
      const notes = Object.fromEntries(texts.map(([name, note]) => [name, {text: note.text, revision: note.revision, updatedAt: note.updatedAt!}]))
      await save(dirs, {version: 1, notes})
      converted = texts.length
    }
    return {notes: converted, archived: await archive.writeArchivedNotes(archived)}
  })
}
