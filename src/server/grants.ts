import {statSync} from 'node:fs'
import {stat} from 'node:fs/promises'

import {type Grant, GrantTable, grantsPath} from '../store/grants.js'

/** How often the share file is looked at: `maestro share` and `revoke` take effect within a second. */
const POLL_MS = 250

/**
 * The share grants a running server honours, re-read whenever the CLI changes the file, and
 * checked for expiry on the same tick. Listeners hear each tick that something may have ended,
 * so that the sockets of a revoked or expired grant close at once.
 */
export class GrantBook {
  #table: GrantTable
  #stamp: string
  readonly #listeners = new Set<() => void>()
  readonly #timer: NodeJS.Timeout
  #busy = false

  private constructor(table: GrantTable, stamp: string) {
    this.#table = table
    this.#stamp = stamp
    this.#timer = setInterval(() => void this.#tick(), POLL_MS)
    this.#timer.unref()
  }

  static async open(): Promise<GrantBook> {
    const stamp = await fileStamp()
    return new GrantBook(await GrantTable.read(), stamp)
  }

  /** A token the table does not know may be one `maestro share` has just made: look again first. */
  byToken(token: string): Grant | undefined {
    const grant = this.#table.byToken(token)
    if (grant) return grant
    try {
      const stamp = stampOf(statSync(grantsPath(), {throwIfNoEntry: false}))
      if (stamp === this.#stamp) return undefined
      this.#table = GrantTable.readSync()
      this.#stamp = stamp
    } catch {
      return undefined
    }
    return this.#table.byToken(token)
  }

  /** The grant if it still stands (not revoked, not expired). */
  current(id: string): Grant | undefined {
    return this.#table.byId(id)
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  async #tick(): Promise<void> {
    if (this.#busy) return
    this.#busy = true
    try {
      await this.#read()
    } catch {
      // A file being replaced or briefly invalid: the table in hand stands until the next tick.
    } finally {
      this.#busy = false
    }
    for (const listener of this.#listeners) listener()
  }

  /** Re-reads at once, whatever tick is under way: the server itself has just changed the file. */
  async reload(): Promise<void> {
    await this.#read()
    for (const listener of this.#listeners) listener()
  }

  async #read(): Promise<void> {
    const stamp = await fileStamp()
    if (stamp !== this.#stamp) {
      this.#table = await GrantTable.read()
      this.#stamp = stamp
    }
  }

  stop(): void {
    clearInterval(this.#timer)
    this.#listeners.clear()
  }
}

async function fileStamp(): Promise<string> {
  return stampOf(await stat(grantsPath()).catch(() => undefined))
}

function stampOf(info: {ino: number; size: number; mtimeMs: number} | undefined): string {
  return info ? `${info.ino}:${info.size}:${info.mtimeMs}` : 'none'
}
