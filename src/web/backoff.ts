/**
 * Retry delays that double from `first` up to `max`, with ±25% jitter so many tabs do not all
 * hit a restarted server at the same instant.
 */
export class Backoff {
  private attempt = 0

  constructor(
    private readonly first = 500,
    private readonly max = 10_000,
  ) {}

  next(): number {
    const base = Math.min(this.max, this.first * 2 ** this.attempt++)
    return Math.round(base * (0.75 + Math.random() * 0.5))
  }

  reset(): void {
    this.attempt = 0
  }
}

/** How the page words every countdown to the next try, so the banner and a terminal agree. */
export function retryIn(retryAt: number, now = Date.now()): string {
  return `reconnecting in ${Math.max(0, Math.ceil((retryAt - now) / 1000))} s`
}
