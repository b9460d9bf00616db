import {type FSWatcher, statSync, watch} from 'node:fs'
import {basename, dirname} from 'node:path'

import type {Dirs} from '../context.js'
import {fileStamp, stampOf} from '../store/files.js'
import {type Grant, GrantTable, grantsPath} from '../store/grants.js'

/** How often the share file is looked at when its directory cannot be watched (no inotify watch left, say). */
const POLL_MS = 250
/** setTimeout's longest wait; a grant may last a year, so a later expiry is waited for in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * The share grants a running server honours, re-read whenever the CLI changes the file, which
 * it learns from a watch on the file's directory (the file is replaced whole, by a rename).
 * Listeners hear each time something may have ended, a revoke or an expiry, so that the
 * sockets of a revoked or expired grant close at once.
 */
export class GrantBook {
  #table: GrantTable
  #stamp: string
  readonly #listeners = new Set<() => void>()
  #watch: FSWatcher | undefined
  #poll: NodeJS.Timeout | undefined
  #expiry: NodeJS.Timeout | undefined
  /** Changes heard while a reading is under way: one more reading follows it. */
  #reading: Promise<void> | undefined
  #again = false
  #stopped = false

  private constructor(
    private readonly path: string,
    table: GrantTable,
    stamp: string,
  ) {
    this.#table = table
    this.#stamp = stamp
    this.#scheduleExpiry()
    this.#follow()
  }

  static async open(dirs: Dirs): Promise<GrantBook> {
    const path = grantsPath(dirs)
    const stamp = await fileStamp(path)
    return new GrantBook(path, await GrantTable.read(path), stamp)
  }

  /**
   * A watch on the directory, since a watch on the file itself would stay on the replaced file.
   * Without one (the directory missing, no inotify watch left) the file is polled instead.
   */
  #follow(): void {
    const {path} = this
    try {
      this.#watch = watch(dirname(path), {persistent: false}, (_event, file) => {
        if (file === null || file === basename(path)) this.#changed()
      })
      this.#watch.on('error', () => {
        this.#watch?.close()
        this.#watch = undefined
        this.#pollInstead()
      })
    } catch {
      this.#pollInstead()
    }
  }

  #pollInstead(): void {
    if (this.#stopped) return
    this.#poll = setInterval(() => this.#changed(), POLL_MS)
    this.#poll.unref()
  }

  /** A token the table does not know may be one `maestro share` has just made: look again first. */
  byToken(token: string): Grant | undefined {
    const grant = this.#table.byToken(token)
    if (grant) return grant
    try {
      const stamp = stampOf(statSync(this.path, {throwIfNoEntry: false}))
      if (stamp === this.#stamp) return undefined
      this.#use(GrantTable.readSync(this.path), stamp)
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

  /** The file may have changed: read it (once more after a reading already under way), then tell. */
  #changed(): void {
    if (this.#reading) {
      this.#again = true
      return
    }
    this.#reading = this.#read()
      .catch(() => undefined) // a file being replaced or briefly invalid: the table in hand stands until the next change
      .then(() => {
        this.#reading = undefined
        this.#tell()
        if (this.#again) {
          this.#again = false
          this.#changed()
        }
      })
  }

  /** Re-reads at once, whatever reading is under way: the server itself has just changed the file. */
  async reload(): Promise<void> {
    await this.#read()
    this.#tell()
  }

  async #read(): Promise<void> {
    const stamp = await fileStamp(this.path)
    if (stamp !== this.#stamp) this.#use(await GrantTable.read(this.path), stamp)
  }

  #use(table: GrantTable, stamp: string): void {
    this.#table = table
    this.#stamp = stamp
    this.#scheduleExpiry()
  }

  #tell(): void {
    for (const listener of this.#listeners) listener()
  }

  /** The next grant to expire ends its sockets then, with no file change to say so. */
  #scheduleExpiry(): void {
    clearTimeout(this.#expiry)
    const next = this.#table.nextExpiry()
    if (next === undefined || this.#stopped) return
    // byId counts a grant as standing until the millisecond after its expiry.
    this.#expiry = setTimeout(() => {
      this.#scheduleExpiry()
      this.#tell()
    }, Math.min(next - Date.now() + 1, MAX_TIMER_MS))
    this.#expiry.unref()
  }

  stop(): void {
    this.#stopped = true
    this.#watch?.close()
    clearInterval(this.#poll)
    clearTimeout(this.#expiry)
    this.#listeners.clear()
  }
}
