export interface RateLimit {
  /** Failures allowed per address within one window. */
  max: number
  /**
   * Failures allowed from all addresses together within one window: 127.0.0.0/8 alone holds
   * 16 million addresses, so a limit per address bounds nothing on its own.
   */
  maxTotal: number
  windowMs: number
}

/** code-server allows a few failed logins a minute; ten leaves room for a mistyped paste. */
export const DEFAULT_AUTH_LIMIT: RateLimit = {max: 10, maxTotal: 100, windowMs: 60_000}

// Bounds memory when failures come from very many addresses; the oldest entries go first.
const MAX_TRACKED = 10_000
// The window of all addresses together, kept beside the per-address ones under a key no address has.
const ALL = '*'

/** Counts failed authentications per client address and in total, in fixed windows. */
export class FailureLimiter {
  readonly #entries = new Map<string, {count: number; resetAt: number}>()

  constructor(
    readonly limit: RateLimit = DEFAULT_AUTH_LIMIT,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until `address` may try again; 0 when it may try now. */
  retryAfter(address: string): number {
    return Math.max(this.#wait(address, this.limit.max), this.#wait(ALL, this.limit.maxTotal))
  }

  fail(address: string): void {
    this.#count(address)
    this.#count(ALL)
  }

  #wait(key: string, max: number): number {
    const entry = this.#current(key)
    if (!entry || entry.count < max) return 0
    return Math.max(1, Math.ceil((entry.resetAt - this.now()) / 1000))
  }

  #count(key: string): void {
    const entry = this.#current(key)
    if (entry) {
      entry.count++
      return
    }
    if (this.#entries.size >= MAX_TRACKED) {
      for (const oldest of this.#entries.keys()) {
        if (oldest === ALL) continue
        this.#entries.delete(oldest)
        break
      }
    }
    this.#entries.set(key, {count: 1, resetAt: this.now() + this.limit.windowMs})
  }

  #current(key: string) {
    const entry = this.#entries.get(key)
    if (entry && entry.resetAt <= this.now()) {
      this.#entries.delete(key)
      return undefined
    }
    return entry
  }
}
