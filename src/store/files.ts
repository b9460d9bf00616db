import {chmod, mkdir, open, rename, rm} from 'node:fs/promises'
import {homedir} from 'node:os'
import {dirname, join} from 'node:path'

import {MaestroError} from '../shared/errors.js'

/** Where notes and settings live: MAESTRO_CONFIG_DIR, else the XDG config dir. */
export function configDir(): string {
  return process.env.MAESTRO_CONFIG_DIR || join(process.env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'maestro')
}

/** Where archives, the audit log and TLS keys live: MAESTRO_STATE_DIR, else the XDG state dir. */
export function stateDir(): string {
  return process.env.MAESTRO_STATE_DIR || join(process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'maestro')
}

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
 * Runs a read-modify-write of `path` under a lock, so a CLI and a running server writing at once
 * both land. The lock is a directory beside the file; a holder that died is taken over after 10 s.
 */
export async function withFileLock<T>(path: string, what: string, work: () => Promise<T>): Promise<T> {
  await ensurePrivateDir(dirname(path))
  // Loaded here, not at the top: `maestro ls` only reads and should not pay for it.
  const {default: lockfile} = await import('proper-lockfile')
  let release: () => Promise<void>
  try {
    release = await lockfile.lock(path, {
      realpath: false,
      stale: 10_000,
      retries: {retries: 200, factor: 1.2, minTimeout: 5, maxTimeout: 100, randomize: true},
    })
  } catch {
    throw new MaestroError('STORE_LOCKED', `${what} ${path} stayed locked by another maestro process; try again`)
  }
  try {
    return await work()
  } finally {
    await release()
  }
}
