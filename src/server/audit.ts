import {chmodSync, closeSync, openSync, writeSync} from 'node:fs'
import {dirname, join} from 'node:path'

import {ensurePrivateDir, stateDir} from '../store/files.js'

export function auditPath(): string {
  return join(stateDir(), 'audit.log')
}

// A Host or Origin header is attacker-chosen; keep a long one from bloating the log.
const MAX_VALUE = 200

/**
 * The security log: one JSON object per line, appended synchronously so that the entries of one
 * request land in order even when the process dies right after. Callers pass facts only: never a
 * token, cookie, header set, URL query or anything typed into a terminal.
 */
export class AuditLog {
  #fd: number | undefined

  private constructor(fd: number) {
    this.#fd = fd
  }

  static async open(path = auditPath()): Promise<AuditLog> {
    await ensurePrivateDir(dirname(path))
    const fd = openSync(path, 'a', 0o600)
    // The mode given to open only applies when the file is created.
    chmodSync(path, 0o600)
    return new AuditLog(fd)
  }

  write(event: string, fields: Record<string, string | number | boolean | null | undefined> = {}): void {
    if (this.#fd === undefined) return
    const entry: Record<string, unknown> = {time: new Date().toISOString(), event}
    for (const [key, value] of Object.entries(fields)) {
      if (value === undefined) continue
      entry[key] = typeof value === 'string' && value.length > MAX_VALUE ? `${value.slice(0, MAX_VALUE)}…` : value
    }
    writeSync(this.#fd, `${JSON.stringify(entry)}\n`)
  }

  close(): void {
    if (this.#fd === undefined) return
    closeSync(this.#fd)
    this.#fd = undefined
  }
}
