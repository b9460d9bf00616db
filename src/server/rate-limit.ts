export interface RateLimit {
  /** Failures allowed per address within one window. */
  max: number
  windowMs: number
}

/** code-server allows a few failed logins a minute; ten leaves room for a mistyped paste. */
export const DEFAULT_AUTH_LIMIT: RateLimit = {max: 10, windowMs: 60_000}

// Bounds memory when failures come from very many addresses; the oldest entries go first.
const MAX_TRACKED = 10_000

/** Counts failed authentications per client address in fixed windows. */
export class FailureLimiter {
  readonly #entries = new Map<string, {count: number; resetAt: number}>()

  constructor(
    readonly limit: RateLimit = DEFAULT_AUTH_LIMIT,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until `address` may try again; 0 when it may try now. */
  retryAfter(address: string): number {
    const entry = this.#current(address)
    if (!entry || entry.count < this.limit.max) return 0
    return Math.max(1, Math.ceil((entry.resetAt - this.now()) / 1000))
  }

  fail(address: string): void {
    const entry = this.#current(address)
    if (entry) {
      entry.count++
      return
    }
    if (this.#entries.size >= MAX_TRACKED) this.#entries.delete(this.#entries.keys().next().value as string)
    this.#entries.set(address, {count: 1, resetAt: this.now() + this.limit.windowMs})
  }

  #current(address: string) {
    const entry = this.#entries.get(address)
    if (entry && entry.resetAt <= this.now()) {
      this.#entries.delete(address)
      return undefined
    }
    return entry
  }
}
