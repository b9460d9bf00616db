import {join} from 'node:path'

import {stateDir, writePrivateFile} from './files.js'

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
