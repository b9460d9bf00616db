import {rename, rm} from 'node:fs/promises'
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
 * Saves what an agent leaves behind before it ends, under archive/<name>/<timestamp>/, and
 * returns that folder. Timestamps sort by time and never collide for one name in one process.
 */
export async function archiveAgent(contents: ArchiveContents, now = new Date()): Promise<string> {
  const stamp = now.toISOString().replaceAll(':', '-')
  const folder = join(archiveRoot(), contents.name, stamp)
  await writePrivateFile(join(folder, 'scrollback.txt'), contents.scrollback)
  await writePrivateFile(join(folder, 'note.md'), contents.note)
  await writePrivateFile(
    join(folder, 'agent.json'),
    `${JSON.stringify({name: contents.name, archivedAt: now.toISOString(), ...contents.agent}, null, 2)}\n`,
  )
  return folder
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
