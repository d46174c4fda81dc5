/**
 * A token bucket (pure; time is passed in): `capacity` tokens, refilled continuously at `ratePerSecond`.
 * Used per WebSocket connection for `chat.send` (docs/chat.md: 10 sends/s, burst 10) before any request is made.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  /**
   * @param capacity burst size (tokens), ≥ 1.
   * @param ratePerSecond refill rate in tokens per second, > 0.
   * @param now current time in ms (e.g. `performance.now()` or `Date.now()`; use the same clock for {@link take}).
   */
  constructor(
    private readonly capacity: number,
    private readonly ratePerSecond: number,
    now: number,
  ) {
    this.tokens = capacity;
    this.updatedAt = now;
  }

  /**
   * Takes one token.
   * @param now current time in ms (same clock as the constructor).
   * @returns 0 when a token was taken, else the ms to wait until one is available (≥ 1, rounded up).
   */
  take(now: number): number {
    const elapsed = Math.max(0, now - this.updatedAt);
    this.tokens = Math.min(this.capacity, this.tokens + (elapsed * this.ratePerSecond) / 1000);
    this.updatedAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.ratePerSecond));
  }
}
