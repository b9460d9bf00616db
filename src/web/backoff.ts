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
