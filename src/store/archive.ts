import {rename, rm, rmdir} from 'node:fs/promises'
import {join} from 'node:path'

import {ensurePrivateDir, stateDir, writePrivateFile} from './files.js'
import {recordingLimitMB} from './settings.js'

export interface ArchiveContents {
  name: string
  scrollback: string
  note: string
  /** What tmux knew of the agent when it ended; absent when only a note was left. */
  agent?: Record<string, unknown>
}

export function archiveRoot(): string {
  return join(stateDir(), 'archive')
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
  static async start(name: string, now = new Date()): Promise<ArchiveDraft> {
    const draft = new ArchiveDraft(join(archiveRoot(), name), now.toISOString().replaceAll(':', '-'))
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
export async function archiveAgent(contents: ArchiveContents, now = new Date()): Promise<string> {
  const draft = await ArchiveDraft.start(contents.name, now)
  try {
    await draft.write('scrollback.txt', contents.scrollback)
    await draft.write('note.md', contents.note)
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
export function recordingsDir(): string {
  return join(stateDir(), 'recordings')
}

/** What a new agent's recorder needs: its folder (made private here, before tmux starts it) and the cap. */
export async function prepareRecording(): Promise<{dir: string; limitBytes: number}> {
  const dir = recordingsDir()
  await ensurePrivateDir(dir)
  return {dir, limitBytes: (await recordingLimitMB()) * 1024 * 1024}
}

/**
 * Moves an ended agent's recording into its archive folder as recording.cast, once its recorder
 * has written its last output; returns its path, or null when the agent had none (started
 * before recordings existed, on a remote host, or without perl). What a recorder killed while
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
  }
  return target
}
