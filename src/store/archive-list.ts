import {readFile, readdir, stat} from 'node:fs/promises'
import {join} from 'node:path'

import type {Dirs} from '../context.js'
import {MaestroError} from '../shared/errors.js'
import {parseAgentId} from '../shared/names.js'
import type {ArchiveEntry} from '../shared/protocol.js'
import {archiveRoot, readArchivedNote} from './archive.js'

export type {ArchiveEntry}

/** An archive with what `archive show` prints. */
export interface ArchiveContents extends ArchiveEntry {
  note: string
  scrollback: string
  /** What tmux knew of the agent when it ended (agent.json); empty when it is unreadable. */
  agent: Record<string, unknown>
}

const RECORDING = 'recording.cast'

async function entries(path: string): Promise<string[]> {
  try {
    return await readdir(path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return []
    throw error
  }
}

/** 2026-12-02T06-31-53.067Z, the folder's name, back to the ISO time it was made from. */
function stampTime(id: string): string {
  return id.replace(/T(\d\d)-(\d\d)-(\d\d)/, 'T$1:$2:$3')
}

async function readEntry(root: string, name: string, id: string): Promise<ArchiveEntry | undefined> {
  const path = join(root, name, id)
  const files = await entries(path)
  if (files.length === 0) return undefined
  const sizes = await Promise.all(files.map((file) => stat(join(path, file)).then((info) => (info.isFile() ? info.size : 0), () => 0)))
  const agent = await readFacts(path)
  const text = (key: string) => (typeof agent[key] === 'string' ? (agent[key] as string) : null)
  return {
    name,
    id,
    killedAt: text('archivedAt') ?? stampTime(id),
    path,
    dir: text('dir'),
    command: text('command'),
    size: sizes.reduce((sum, size) => sum + size, 0),
    recording: files.includes(RECORDING),
  }
}

async function readFacts(path: string): Promise<Record<string, unknown>> {
  try {
    const facts = JSON.parse(await readFile(join(path, 'agent.json'), 'utf8'))
    return facts && typeof facts === 'object' ? facts : {}
  } catch {
    return {}
  }
}

/**
 * Archives, newest first: of one agent id, or of every agent. Folders starting with "." are
 * never archives (work in progress), nor are empty ones.
 */
export async function listArchives(dirs: Dirs, name?: string): Promise<ArchiveEntry[]> {
  if (name !== undefined) parseAgentId(name)
  const root = archiveRoot(dirs)
  const names = name === undefined ? await entries(root) : [name]
  const found = await Promise.all(
    names
      .filter((each) => !each.startsWith('.'))
      .map(async (each) => Promise.all((await entries(join(root, each))).filter((id) => !id.startsWith('.')).map((id) => readEntry(root, each, id)))),
  )
  return found
    .flat()
    .filter((entry): entry is ArchiveEntry => entry !== undefined)
    .sort((a, b) => b.killedAt.localeCompare(a.killedAt) || b.id.localeCompare(a.id))
}

/** The newest archive of `name`, or the one whose id is `at`; ARCHIVE_NOT_FOUND otherwise. */
export async function findArchive(dirs: Dirs, name: string, at?: string): Promise<ArchiveEntry> {
  const archives = await listArchives(dirs, name)
  const found = at === undefined ? archives[0] : archives.find((entry) => entry.id === at)
  if (found) return found
  if (at !== undefined && archives.length > 0) {
    throw new MaestroError('ARCHIVE_NOT_FOUND', `no archive ${at} of "${name}" (maestro archive ls ${name} lists them)`, {name, at})
  }
  throw new MaestroError('ARCHIVE_NOT_FOUND', `no archive of "${name}" (maestro archive ls lists the archived agents)`, {name})
}

export async function readArchive(dirs: Dirs, name: string, at?: string): Promise<ArchiveContents> {
  const entry = await findArchive(dirs, name, at)
  const read = (file: string) => readFile(join(entry.path, file), 'utf8').catch(() => '')
  // A note archived while notes were encrypted is opened here (NOTES_LOCKED without the passphrase).
  const [note, scrollback, agent] = await Promise.all([readArchivedNote(entry.path), read('scrollback.txt'), readFacts(entry.path)])
  return {...entry, note, scrollback, agent}
}

/** The recording of an archive; RECORDING_NOT_FOUND for an archive without one. */
export async function archivedRecording(dirs: Dirs, name: string, at?: string): Promise<{entry: ArchiveEntry; path: string}> {
  const entry = await findArchive(dirs, name, at)
  if (!entry.recording) {
    throw new MaestroError('RECORDING_NOT_FOUND', `archive ${entry.id} of "${name}" has no recording (its agent ran on a remote host, before recordings existed, or without perl)`, {name, at: entry.id})
  }
  return {entry, path: join(entry.path, RECORDING)}
}
