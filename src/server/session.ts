import {randomBytes} from 'node:crypto'
import {chmod, readFile, stat} from 'node:fs/promises'
import {join} from 'node:path'

import type {StorageFailures} from '../store/failures.js'
import {writePrivateFile} from '../store/files.js'

/** How long a browser stays signed in unless the setting sessionDays says otherwise. */
export const DEFAULT_SESSION_DAYS = 30

export function sessionSecretPath(stateDir: string): string {
  return join(stateDir, 'session-secret')
}

/**
 * The key that signs session cookies, kept in the state dir (0600) like Jupyter's cookie secret,
 * so that a restarted server (with a new token) still knows the browsers it signed in. `rotate`
 * replaces it, which signs every browser out.
 */
export async function loadSessionSecret(stateDir: string, options: {rotate?: boolean; failures?: StorageFailures} = {}): Promise<Buffer> {
  const path = sessionSecretPath(stateDir)
  if (!options.rotate) {
    const existing = await readFile(path, 'utf8').catch(() => undefined)
    const secret = existing === undefined ? undefined : Buffer.from(existing.trim(), 'base64url')
    if (secret && secret.length >= 32) {
      // It is ours: a looser mode (a restore from a backup, say) is tightened rather than trusted.
      if (((await stat(path)).mode & 0o077) !== 0) await chmod(path, 0o600)
      return secret
    }
  }
  const secret = randomBytes(32)
  try {
    await writePrivateFile(path, `${secret.toString('base64url')}\n`)
  } catch (error) {
    // A full or unwritable state disk costs the sign-ins of a restart, never the server.
    if (!options.failures) throw error
    options.failures.record(`session secret ${path}`, error)
  }
  return secret
}
