/**
 * Connection attempts per client IP: a sliding-window log kept in memory by each edge (docs/chat.md: at most
 * `REALTIME_CONNECTIONS_PER_IP_PER_10S` per 10 s, HTTP 429 on upgrade). Per edge, not global: with N edges behind
 * a balancer a client may get up to N × limit. Only admitted attempts are recorded, so a refused client gets in
 * again as soon as its oldest admitted attempt leaves the window. The IP is the TCP peer address (no proxy headers).
 */
export class IpRateLimiter {
  private readonly hits = new Map<string, number[]>();
  private readonly sweeper: NodeJS.Timeout;

  /**
   * @param limit attempts admitted per IP per window; 0 disables the limiter.
   * @param windowMs window length in ms. Default 10 000.
   * @param clock time source in ms. Default `Date.now`.
   */
  constructor(
    private readonly limit: number,
    private readonly windowMs = 10_000,
    private readonly clock: () => number = Date.now,
  ) {
    this.sweeper = setInterval(() => this.sweep(), windowMs);
    this.sweeper.unref();
  }

  /**
   * Records an attempt from `ip` when admitted.
   * @returns 0 when admitted, else the ms until an attempt would be admitted (≥ 1).
   */
  tryAcquire(ip: string): number {
    if (this.limit <= 0) return 0;
    const now = this.clock();
    let log = this.hits.get(ip);
    if (!log) {
      log = [];
      this.hits.set(ip, log);
    }
    while (log.length > 0 && (log[0] as number) <= now - this.windowMs) log.shift();
    if (log.length >= this.limit) return Math.max(1, (log[0] as number) + this.windowMs - now);
    log.push(now);
    return 0;
  }

  /** Number of IPs currently tracked (memory use is O(IPs × limit)). */
  get size(): number {
    return this.hits.size;
  }

  /** Stops the periodic clean-up. */
  close(): void {
    clearInterval(this.sweeper);
  }

  private sweep(): void {
    const cutoff = this.clock() - this.windowMs;
    for (const [ip, log] of this.hits) {
      const newest = log[log.length - 1];
      if (newest === undefined || newest <= cutoff) this.hits.delete(ip);
    }
  }
}
