import {chmodSync, closeSync, fstatSync, openSync, renameSync, writeSync} from 'node:fs'
import {dirname, join} from 'node:path'

import type {StorageFailures} from '../store/failures.js'
import {ensurePrivateDir} from '../store/files.js'

export function auditPath(stateDir: string): string {
  return join(stateDir, 'audit.log')
}

// A Host or Origin header is attacker-chosen; keep a long one from bloating the log.
const MAX_VALUE = 200

export interface AuditLimits {
  /** Past this size the log is rotated: audit.log becomes audit.log.1, and so on. */
  maxBytes: number
  /** How many files are kept in all, audit.log included. */
  files: number
  /** Repeats of one refusal from one address within this window make one record with a count. */
  coalesceMs: number
}

export const DEFAULT_AUDIT_LIMITS: AuditLimits = {maxBytes: 10 * 1024 * 1024, files: 5, coalesceMs: 60_000}

/** Events that an unauthenticated client can cause as often as it likes. */
const REPEATABLE = new Set(['refused', 'auth_failed'])
// Bounds the memory of coalescing when refusals come from very many addresses.
const MAX_COALESCED = 1000

type Fields = Record<string, string | number | boolean | null | undefined>

interface Repeat {
  event: string
  fields: Fields
  since: string
  count: number
  timer: NodeJS.Timeout
}

/**
 * The security log: one JSON object per line, appended synchronously so that the entries of one
 * request land in order even when the process dies right after. Callers pass facts only: never a
 * token, cookie, header set, URL query or anything typed into a terminal. What unauthenticated
 * clients cause is coalesced per address and the files are rotated, so that a flood of requests
 * cannot fill the disk. A full or unwritable state directory must not stop the server either:
 * a write that fails is counted in `failures`, never thrown.
 */
export class AuditLog {
  #fd: number | undefined
  #size: number
  /** The log could not even be opened: every entry is a failed write. */
  #unopened = false
  readonly #repeats = new Map<string, Repeat>()

  private constructor(
    fd: number | undefined,
    private readonly path: string,
    private readonly limits: AuditLimits,
    private readonly failures?: StorageFailures,
  ) {
    this.#fd = fd
    this.#size = fd === undefined ? 0 : fstatSync(fd).size
  }

  static async open(path: string, limits: Partial<AuditLimits> = {}, failures?: StorageFailures): Promise<AuditLog> {
    const settled = {...DEFAULT_AUDIT_LIMITS, ...limits}
    try {
      await ensurePrivateDir(dirname(path))
      return new AuditLog(openPrivate(path), path, settled, failures)
    } catch (error) {
      if (!failures) throw error
      failures.record(`audit log ${path}`, error)
      const log = new AuditLog(undefined, path, settled, failures)
      log.#unopened = true
      return log
    }
  }

  write(event: string, fields: Fields = {}): void {
    if (this.#unopened) return this.failures?.record('audit log', new Error('the audit log could not be opened'))
    if (this.#fd === undefined) return
    if (!REPEATABLE.has(event)) return this.#append(event, fields)
    // The first of a run is written at once; the rest are counted and written as one record.
    const key = JSON.stringify([event, fields.address, fields.status, fields.reason, fields.value, fields.method, fields.via])
    const repeat = this.#repeats.get(key)
    if (repeat) {
      repeat.count++
      repeat.fields = fields
      return
    }
    this.#append(event, fields)
    if (this.#repeats.size >= MAX_COALESCED) this.#flush(this.#repeats.keys().next().value as string)
    const timer = setTimeout(() => this.#flush(key), this.limits.coalesceMs)
    timer.unref()
    this.#repeats.set(key, {event, fields, since: new Date().toISOString(), count: 0, timer})
  }

  close(): void {
    if (this.#fd === undefined) return
    for (const key of [...this.#repeats.keys()]) this.#flush(key)
    closeSync(this.#fd)
    this.#fd = undefined
  }

  /** Writes how often a refusal repeated after its first record, if it did. */
  #flush(key: string): void {
    const repeat = this.#repeats.get(key)
    if (!repeat) return
    this.#repeats.delete(key)
    clearTimeout(repeat.timer)
    if (repeat.count > 0) this.#append(repeat.event, {...repeat.fields, repeated: repeat.count, since: repeat.since})
  }

  #append(event: string, fields: Fields): void {
    if (this.#fd === undefined) return
    const entry: Record<string, unknown> = {time: new Date().toISOString(), event}
    for (const [key, value] of Object.entries(fields)) {
      if (value === undefined) continue
      entry[key] = typeof value === 'string' && value.length > MAX_VALUE ? `${value.slice(0, MAX_VALUE)}…` : value
    }
    const line = `${JSON.stringify(entry)}\n`
    const bytes = Buffer.byteLength(line)
    try {
      if (this.#size > 0 && this.#size + bytes > this.limits.maxBytes) this.#rotate()
      writeSync(this.#fd, line)
      this.#size += bytes
    } catch (error) {
      if (!this.failures) throw error
      this.failures.record('audit log', error)
    }
  }

  /** audit.log → audit.log.1 → … → audit.log.(files-1); the oldest is overwritten. */
  #rotate(): void {
    try {
      for (let index = this.limits.files - 2; index >= 1; index--) renameQuietly(`${this.path}.${index}`, `${this.path}.${index + 1}`)
      if (this.limits.files > 1) renameSync(this.path, `${this.path}.1`)
      const fd = openPrivate(this.path, this.limits.files > 1 ? 'a' : 'w')
      closeSync(this.#fd!)
      this.#fd = fd
      this.#size = 0
    } catch {
      // Rotation failed (the directory became unwritable, say): keep appending where we are.
    }
  }
}

function openPrivate(path: string, flags = 'a'): number {
  const fd = openSync(path, flags, 0o600)
  // The mode given to open only applies when the file is created.
  chmodSync(path, 0o600)
  return fd
}

function renameQuietly(from: string, to: string): void {
  try {
    renameSync(from, to)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
}
