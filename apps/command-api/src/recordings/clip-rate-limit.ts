/**
 * The per-user clip rate limit (`CLIP_RATE_LIMIT` of @eventcast/contracts: at most `count` clips per `windowSeconds`),
 * shared by every command-api process: npm `rate-limiter-flexible` (RateLimiterPostgres, a fixed window per key) on
 * the deployment's PostgreSQL (DATABASE_URL; table `eventcast_clip_rate_limits`, created on first use). Command-api
 * has no Redis; PostgreSQL is already the store every instance shares.
 */
import pg from 'pg';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import { CLIP_RATE_LIMIT } from '@eventcast/contracts';
import { guardPool } from '@eventcast/event-store';

/** Outcome of {@link ClipRateLimiter.take}: allowed, or refused with the seconds until the window frees a point. */
export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/** One user's clip budget. */
export class ClipRateLimiter {
  private readonly pool: pg.Pool;
  private limiter: Promise<RateLimiterPostgres> | null = null;

  constructor(
    databaseUrl: string,
    private readonly limit: { count: number; windowSeconds: number } = CLIP_RATE_LIMIT,
  ) {
    // A connection PostgreSQL closes (a restart) is reported as an 'error' event of the pool or the client; without a
    // listener it is thrown as uncaught and takes command-api down (restarts.test.ts). guardPool absorbs both, as for
    // the event store's pool; the next query opens a new connection.
    this.pool = guardPool(new pg.Pool({ connectionString: databaseUrl, max: 2 }));
  }

  /**
   * The limiter, made on first use (it creates its table); a failed creation (PostgreSQL down) is retried by the next
   * call instead of refusing every clip until a restart.
   */
  private ready(): Promise<RateLimiterPostgres> {
    if (!this.limiter) {
      const made = new Promise<RateLimiterPostgres>((resolve, reject) => {
        const limiter: RateLimiterPostgres = new RateLimiterPostgres(
          { storeClient: this.pool, storeType: 'pool', tableName: 'eventcast_clip_rate_limits', keyPrefix: 'clip', points: this.limit.count, duration: this.limit.windowSeconds },
          (err?: Error) => (err ? reject(err) : resolve(limiter)),
        );
      });
      made.catch(() => {
        if (this.limiter === made) this.limiter = null;
      });
      this.limiter = made;
    }
    return this.limiter;
  }

  /**
   * Takes one point of `userId`'s budget.
   * @throws when PostgreSQL fails (the caller answers 5xx; no clip is cut).
   */
  async take(userId: string): Promise<RateDecision> {
    const limiter = await this.ready();
    try {
      await limiter.consume(userId, 1);
      return { allowed: true };
    } catch (res) {
      if (res instanceof RateLimiterRes) return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)) };
      throw res;
    }
  }

  /** Gives a point back (a clip that could not be cut through no fault of the user's). Errors are ignored. */
  async refund(userId: string): Promise<void> {
    try {
      await (await this.ready()).reward(userId, 1);
    } catch {
      // best effort: the point comes back with the window anyway
    }
  }

  /** Closes the connection pool. */
  async close(): Promise<void> {
    await this.pool.end();
  }
}
