import {chmod, mkdir, open, rename, rm, stat} from 'node:fs/promises'
import {dirname} from 'node:path'

import {withLock} from './lock.js'

/** Creates a directory that only its owner may enter, tightening it if it already existed. */
export async function ensurePrivateDir(path: string): Promise<void> {
  await mkdir(path, {recursive: true, mode: 0o700})
  await chmod(path, 0o700)
}

/**
 * Writes a private file atomically: readers see the old or the new content, never half of it.
 * The mode is given at creation, since a mode passed for an existing file changes nothing.
 */
export async function writePrivateFile(path: string, content: string): Promise<void> {
  await ensurePrivateDir(dirname(path))
  // node:crypto costs several milliseconds to load, and reads (all of `maestro ls`) never need it.
  const {randomBytes} = await import('node:crypto')
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  const handle = await open(temporary, 'wx', 0o600)
  try {
    await handle.writeFile(content)
    await handle.sync()
  } catch (error) {
    await handle.close()
    await rm(temporary, {force: true})
    throw error
  }
  await handle.close()
  await rename(temporary, path)
}

/**
 * Runs a read-modify-write of `path` under the store's lock (lock.ts), so a CLI and a running
 * server writing at once both land, and a holder that died is taken over at once.
 */
export async function withFileLock<T>(path: string, work: () => Promise<T>): Promise<T> {
  await ensurePrivateDir(dirname(path))
  return withLock(path, work)
}

/**
 * What tells one version of a file from another, for a reader that reads it again only once it
 * changed: each write replaces the file (a new inode) at a new time. 'none' when it is missing.
 */
export async function fileStamp(path: string): Promise<string> {
  return stampOf(await stat(path).catch(() => undefined))
}

/** fileStamp from a stat already made (a synchronous one, say). */
export function stampOf(info: {ino: number; size: number; mtimeMs: number} | undefined): string {
  return info ? `${info.ino}:${info.size}:${info.mtimeMs}` : 'none'
}
