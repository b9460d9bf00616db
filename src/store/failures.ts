import {storageFailure} from '../shared/errors.js'

export interface StorageHealth {
  /** Writes that failed since the process started. */
  failures: number
  /** The last failure, as one line; null while nothing failed. */
  last: string | null
}

/**
 * Counts writes that failed in a long-running process (the server): they are reported once on
 * stderr and kept for whoever asks (the page, the API), never thrown at code that cannot stop.
 */
export class StorageFailures {
  #failures = 0
  #last: string | null = null
  readonly #listeners = new Set<() => void>()

  constructor(private readonly report: (line: string) => void) {}

  record(what: string, error: unknown): void {
    const failure = storageFailure(error)
    this.#failures++
    this.#last = `${what}: ${(failure as Error).message}`
    if (this.#failures === 1) {
      this.report(`maestro: ${this.#last} [STORAGE_FAILED]; the server keeps running, further failures are counted on the page`)
    }
    for (const listener of this.#listeners) listener()
  }

  /** Hears every failure after it was counted; returns a function that stops it. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  get health(): StorageHealth {
    return {failures: this.#failures, last: this.#last}
  }
}
