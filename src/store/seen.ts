import {open, readFile, rename, rm} from 'node:fs/promises'
import {join} from 'node:path'

import {type SavedMemory, StateMemory} from '../attention/state.js'
import type {Dirs} from '../context.js'
import {ensurePrivateDir} from './files.js'

/**
 * What one `maestro ls` saw of each pane, for the next one (see StateMemory): a screen that did
 * not change is not read again, a working agent keeps the time it started, a redraw is no work.
 * One file per tmux server, since pane ids are the server's own. Only a cache: a file that cannot
 * be read starts a fresh memory, and one that cannot be written is left as it was.
 */
function seenFile(dirs: Dirs, socket: string): string {
  return join(dirs.stateDir, `seen-${encodeURIComponent(socket)}.json`)
}

export async function loadMemory(dirs: Dirs, socket: string, table: string): Promise<StateMemory> {
  const text = await readFile(seenFile(dirs, socket), 'utf8').catch(() => '')
  let saved: SavedMemory | undefined
  try {
    saved = text ? (JSON.parse(text) as SavedMemory) : undefined
  } catch {
    saved = undefined
  }
  return StateMemory.load(saved, table)
}

/**
 * Writes the memory when it learnt something: a temporary file renamed into place, so a reader
 * sees the old file or the new one. Without fsync: losing a cache in a crash costs one more
 * screen read.
 */
export async function saveMemory(dirs: Dirs, socket: string, memory: StateMemory): Promise<void> {
  if (!memory.learnt) return
  const path = seenFile(dirs, socket)
  const temporary = `${path}.${process.pid}.tmp`
  try {
    await ensurePrivateDir(dirs.stateDir)
    const handle = await open(temporary, 'w', 0o600)
    try {
      await handle.writeFile(JSON.stringify(memory.save()))
    } finally {
      await handle.close()
    }
    await rename(temporary, path)
  } catch {
    await rm(temporary, {force: true}).catch(() => undefined)
  }
}
