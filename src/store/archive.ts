import {readFile, readdir, rename, rm, rmdir} from 'node:fs/promises'
import {join} from 'node:path'

import type {Dirs} from '../context.js'
import {MaestroError} from '../shared/errors.js'
import {ensurePrivateDir, writePrivateFile} from './files.js'
import type {KeptNote} from './notes.js'
import type {SealedText, Sealing} from './sealing.js'
import {recordingLimitMB} from './settings.js'

export interface ArchiveContents {
  name: string
  scrollback: string
  /** The note's text, or the note still sealed when notes are encrypted (note.md.enc). */
  note: KeptNote | string
  /** What tmux knew of the agent when it ended; absent when only a note was left. */
  agent?: Record<string, unknown>
}

/** An archived note in clear; with encryptNotes on it is kept as SEALED_NOTE instead. */
const PLAIN_NOTE = 'note.md'
const SEALED_NOTE = 'note.md.enc'

export function archiveRoot(dirs: Dirs): string {
  return join(dirs.stateDir, 'archive')
}

/**
 * An archive being written. Its files go into a hidden folder that `keep` renames into place
 * whole, so an archive that could not be finished (a full disk) never shows as half of one;
 * `discard` removes it wherever it is.
 */
export class ArchiveDraft {
  #path: string

  private constructor(
    private readonly parent: string,
    private readonly stamp: string,
  ) {
    this.#path = join(parent, `.${stamp}.partial`)
  }

  /** Starts the archive of `name`, to be kept under archive/<name>/<timestamp>/. */
  static async start(dirs: Dirs, name: string, now = new Date()): Promise<ArchiveDraft> {
    const draft = new ArchiveDraft(join(archiveRoot(dirs), name), now.toISOString().replaceAll(':', '-'))
    try {
      await ensurePrivateDir(draft.#path)
    } catch (error) {
      await draft.discard()
      throw error
    }
    return draft
  }

  write(file: string, content: string): Promise<void> {
    return writePrivateFile(join(this.#path, file), content)
  }

  /** The note as note.md, or as note.md.enc when it is sealed. */
  writeNote(note: KeptNote | string): Promise<void> {
    return writeNoteFile(this.#path, typeof note === 'string' ? {text: note} : note)
  }

  /** Puts the archive in place and returns its folder. Timestamps sort by time and never collide for one name in one process. */
  async keep(): Promise<string> {
    const folder = join(this.parent, this.stamp)
    await rename(this.#path, folder)
    this.#path = folder
    return folder
  }

  /** Removes what was written, and the agent's folder when nothing else is in it. */
  async discard(): Promise<void> {
    await rm(this.#path, {recursive: true, force: true})
    await rmdir(this.parent).catch(() => undefined)
  }
}

/** Saves what an agent leaves behind before it ends, under archive/<name>/<timestamp>/, and returns that folder. */
export async function archiveAgent(dirs: Dirs, contents: ArchiveContents, now = new Date()): Promise<string> {
  const draft = await ArchiveDraft.start(dirs, contents.name, now)
  try {
    await draft.write('scrollback.txt', contents.scrollback)
    await draft.writeNote(contents.note)
    await draft.write('agent.json', archiveFacts(contents.name, now, contents.agent))
    return await draft.keep()
  } catch (error) {
    await draft.discard()
    throw error
  }
}

/** agent.json: the agent's name, when it was archived and what tmux knew of it. */
export function archiveFacts(name: string, now: Date, agent?: Record<string, unknown>): string {
  return `${JSON.stringify({name, archivedAt: now.toISOString(), ...agent}, null, 2)}\n`
}

/** Where running agents' recordings are written, each named after the agent's id. */
export function recordingsDir(dirs: Dirs): string {
  return join(dirs.stateDir, 'recordings')
}

/** What is known of a recording's agent, beside it, for when the agent ends outside maestro. */
export interface RecordingFacts {
  name: string
  dir: string
  command: string | null
  startedAt: string
}

function factsFile(dirs: Dirs, agentId: string): string {
  return join(recordingsDir(dirs), `${agentId}.json`)
}

export function writeRecordingFacts(dirs: Dirs, agentId: string, facts: RecordingFacts): Promise<void> {
  return writePrivateFile(factsFile(dirs, agentId), `${JSON.stringify(facts)}\n`)
}

export async function readRecordingFacts(dirs: Dirs, agentId: string): Promise<Partial<RecordingFacts>> {
  try {
    const facts = JSON.parse(await readFile(factsFile(dirs, agentId), 'utf8'))
    return facts && typeof facts === 'object' ? facts : {}
  } catch {
    return {}
  }
}

/** Ids of the agents whose recordings are in recordings/, whether their agents run or not. */
export async function recordedAgentIds(dirs: Dirs): Promise<string[]> {
  const files = await readdir(recordingsDir(dirs)).catch(() => [] as string[])
  return files.filter((file) => file.endsWith('.cast')).map((file) => file.slice(0, -'.cast'.length))
}

/** What a new agent's recorder needs: its folder (made private here, before tmux starts it) and the cap. */
export async function prepareRecording(dirs: Dirs): Promise<{dir: string; limitBytes: number}> {
  const dir = recordingsDir(dirs)
  await ensurePrivateDir(dir)
  return {dir, limitBytes: await recordingLimitBytes(dirs)}
}

export async function recordingLimitBytes(dirs: Dirs): Promise<number> {
  return (await recordingLimitMB(dirs)) * 1024 * 1024
}

/** Keeps a recording fetched from a remote host in its agent's archive folder; returns its path. */
export async function keepRecording(folder: string, cast: string): Promise<string> {
  const target = join(folder, 'recording.cast')
  await writePrivateFile(target, cast)
  return target
}

/**
 * Moves an ended agent's recording into its archive folder as recording.cast, once its recorder
 * has written its last output; returns its path, or null when the agent had none (started
 * before recordings existed, or without perl). What a recorder killed while
 * trimming left behind goes too.
 */
export async function archiveRecording(file: string, folder: string): Promise<string | null> {
  const target = join(folder, 'recording.cast')
  try {
    await rename(file, target)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw error
  } finally {
    await rm(`${file}.tmp`, {force: true})
    await rm(file.replace(/\.cast$/, '.json'), {force: true})
  }
  return target
}

async function writeNoteFile(folder: string, note: KeptNote): Promise<void> {
  if ('sealed' in note) await writePrivateFile(join(folder, SEALED_NOTE), `${JSON.stringify({version: 1, ...note})}\n`)
  else await writePrivateFile(join(folder, PLAIN_NOTE), note.text)
}

/**
 * The note of one archive folder, opened when it is sealed (NOTES_LOCKED without the
 * passphrase, WRONG_PASSPHRASE with another one); '' when the archive has none.
 */
export async function readArchivedNote(folder: string): Promise<string> {
  const sealed = await readSealed(folder)
  if (sealed) {
    const {open, requireKey} = await import('./sealing.js')
    return open(await requireKey(sealed.sealing), sealed.sealed, `the archived note in ${folder}`)
  }
  return readFile(join(folder, PLAIN_NOTE), 'utf8').catch(() => '')
}

async function readSealed(folder: string): Promise<SealedText | undefined> {
  let raw: string
  try {
    raw = await readFile(join(folder, SEALED_NOTE), 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
  try {
    const parsed = JSON.parse(raw) as SealedText
    if (typeof parsed.sealed !== 'string' || typeof parsed.sealing?.salt !== 'string') throw new Error('unexpected shape')
    return parsed
  } catch {
    throw new MaestroError('NOTES_CORRUPT', `archived note ${join(folder, SEALED_NOTE)} is not valid; nothing was changed`)
  }
}

/** Every archive folder, archive/<name>/<timestamp>/, and every draft of one. */
async function archiveFolders(dirs: Dirs): Promise<string[]> {
  const root = archiveRoot(dirs)
  // Drafts (ArchiveDraft, hidden) count too: one left by a kill that died holds a note all the same.
  const list = async (dir: string) => readdir(dir).catch(() => [] as string[])
  const folders = await Promise.all((await list(root)).map(async (name) => (await list(join(root, name))).map((stamp) => join(root, name, stamp))))
  return folders.flat()
}

/**
 * Seals every archived note kept in clear, under the notes lock (kills archive under it too):
 * the sealed copy is written before the clear one is removed, so a crash loses nothing and a
 * second run finishes the job. Returns how many were sealed.
 */
export async function sealArchivedNotes(dirs: Dirs, sealing: Sealing, key: Buffer): Promise<number> {
  const {seal} = await import('./sealing.js')
  let sealed = 0
  for (const folder of await archiveFolders(dirs)) {
    const text = await readFile(join(folder, PLAIN_NOTE), 'utf8').catch(() => undefined)
    if (text === undefined) continue
    await writeNoteFile(folder, {sealing, sealed: seal(key, text)})
    await rm(join(folder, PLAIN_NOTE), {force: true})
    sealed++
  }
  return sealed
}

/** Opens every sealed archived note, changing nothing: a wrong passphrase or a damaged note stops here. */
export async function openArchivedNotes(dirs: Dirs): Promise<{folder: string; text: string}[]> {
  const opened: {folder: string; text: string}[] = []
  for (const folder of await archiveFolders(dirs)) {
    if (await readSealed(folder)) opened.push({folder, text: await readArchivedNote(folder)})
  }
  return opened
}

/** Writes archived notes back in clear (encryption turned off), each before its sealed copy goes. */
export async function writeArchivedNotes(notes: {folder: string; text: string}[]): Promise<number> {
  for (const {folder, text} of notes) {
    await writeNoteFile(folder, {text})
    await rm(join(folder, SEALED_NOTE), {force: true})
  }
  return notes.length
}
