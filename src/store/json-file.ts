import {readFile} from 'node:fs/promises'

import type {MaestroError} from '../shared/errors.js'
import {withFileLock, writePrivateFile} from './files.js'

/**
 * A JSON file of user data (notes, settings, hosts). Readers take no lock: every write replaces
 * the file atomically, so a reader sees the old or the new content. A file that cannot be
 * understood is an error, never a fresh start: starting over would silently lose what it held.
 */
export interface JsonFile<T> {
  path: string
  /** What a missing file holds. */
  empty: () => T
  /** The parsed content as a T; throws an Error saying what is wrong when it does not fit. */
  check: (value: unknown) => T
  /** The error for a file that is not JSON or does not fit: one line naming the file and the fix. */
  corrupt: (reason: string) => MaestroError | Promise<MaestroError>
}

export async function readJsonFile<T>(file: JsonFile<T>): Promise<T> {
  let raw: string
  try {
    raw = await readFile(file.path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return file.empty()
    throw error
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch {
    // Not the parser's message: it quotes the file, which may hold secrets and line breaks.
    throw await file.corrupt('it is not JSON')
  }
  try {
    return file.check(parsed)
  } catch (error) {
    throw await file.corrupt((error as Error).message)
  }
}

/** Replaces the file atomically with `value`, private to its owner. */
export async function writeJsonFile(path: string, value: unknown): Promise<void> {
  await writePrivateFile(path, `${JSON.stringify(value, null, 2)}\n`)
}

/**
 * Reads, changes and writes the file under the store's lock (lock.ts), so writers in several
 * processes at once all land. `change` edits the value in place; what it returns is returned.
 * Nothing is written when the file cannot be read or `change` throws.
 */
export async function updateJsonFile<T, R>(file: JsonFile<T>, change: (value: T) => R | Promise<R>): Promise<R> {
  return withFileLock(file.path, async () => {
    const value = await readJsonFile(file)
    const result = await change(value)
    await writeJsonFile(file.path, value)
    return result
  })
}
