/**
 * The global position the read models have reached, and a bounded wait for a given one: the query side of
 * read-your-writes (ARCHITECTURE.md invariant 8; contract in libs/contracts/src/read-your-writes.ts).
 *
 * The position is the lowest checkpoint of this app's projections in `readmodels.projection_checkpoints` (each is
 * moved in the same transaction as its read-model rows, projection-runner.ts), so a read that starts after the
 * position was seen at P reflects every event up to P. Read from the database rather than from this process's
 * runner, so it also holds when several query-api processes share the durable consumer and another one applied the
 * event. While requests wait, ONE query per {@link ReadPositionOptions.pollMs} serves all of them.
 */
import type { ReadModelDb } from '@eventcast/read-models';

/** Tuning of {@link ReadPosition}. */
export interface ReadPositionOptions {
  /** Checkpoint names of the projections the HTTP routes read (the runner's projections). */
  names: readonly string[];
  /** Longest wait (ms) for a position; 0 answers at once. */
  maxWaitMs: number;
  /** Interval (ms) between checkpoint reads while someone waits (default 20). */
  pollMs?: number;
  /** A cached position younger than this (ms) answers {@link ReadPosition.current} without a query (default 25). */
  freshMs?: number;
}

/** Outcome of {@link ReadPosition.atLeast}. */
export interface PositionWait {
  /** True when the read models reached the asked position within the bound. */
  reached: boolean;
  /** The position known when the wait ended (≥ the asked one when `reached`). */
  position: bigint;
}

interface Waiter {
  min: bigint;
  done(result: PositionWait): void;
}

/** Tracks the read models' position; see the module comment. */
export class ReadPosition {
  private known = 0n;
  private knownAt = 0;
  private inflight: Promise<bigint> | null = null;
  private readonly waiters = new Set<Waiter>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly pollMs: number;
  private readonly freshMs: number;

  /**
   * @param db read-model database.
   * @param options see {@link ReadPositionOptions}.
   */
  constructor(
    private readonly db: ReadModelDb,
    readonly options: ReadPositionOptions,
  ) {
    this.pollMs = options.pollMs ?? 20;
    this.freshMs = options.freshMs ?? 25;
  }

  /** The last position read (0 before the first read); no query. */
  get lastKnown(): bigint {
    return this.known;
  }

  /** The longest wait (ms) of {@link atLeast}. */
  get maxWaitMs(): number {
    return this.options.maxWaitMs;
  }

  /**
   * The position the read models have reached: a lower bound of what any read started after this call reflects
   * (positions only grow). Served from the last read when it is younger than `freshMs`.
   * @throws database errors.
   */
  async current(): Promise<bigint> {
    if (this.knownAt > 0 && performance.now() - this.knownAt < this.freshMs) return this.known;
    return this.read();
  }

  /**
   * Resolves once the read models have reached `min`, or after `maxWaitMs` with `reached: false`.
   * @param min the global position the caller has seen.
   * @throws database errors of the first read (later polls that fail are retried until the bound).
   */
  async atLeast(min: bigint): Promise<PositionWait> {
    if (this.known >= min) return { reached: true, position: this.known };
    const now = await this.read();
    if (now >= min) return { reached: true, position: now };
    if (this.options.maxWaitMs <= 0) return { reached: false, position: now };
    return new Promise<PositionWait>((resolve) => {
      const timeout = setTimeout(() => {
        this.waiters.delete(waiter);
        resolve({ reached: false, position: this.known });
      }, this.options.maxWaitMs);
      const waiter: Waiter = {
        min,
        done: (result) => {
          clearTimeout(timeout);
          this.waiters.delete(waiter);
          resolve(result);
        },
      };
      this.waiters.add(waiter);
      this.schedule();
    });
  }

  /** Stops polling and ends every wait with `reached: false` (shutdown). */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const w of [...this.waiters]) w.done({ reached: false, position: this.known });
  }

  private schedule(): void {
    if (this.timer !== null || this.waiters.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.read()
        .catch(() => this.known)
        .then((position) => {
          for (const w of [...this.waiters]) if (position >= w.min) w.done({ reached: true, position });
          this.schedule();
        });
    }, this.pollMs);
  }

  /** One checkpoint query, shared by concurrent callers; moves {@link known} forward only. */
  private read(): Promise<bigint> {
    this.inflight ??= (async () => {
      try {
        const rows = await this.db.selectFrom('projection_checkpoints').select(['position']).where('name', 'in', [...this.options.names]).execute();
        // A projection without a row has applied nothing yet.
        const low = rows.length < new Set(this.options.names).size ? 0n : rows.reduce((m, r) => (BigInt(r.position) < m ? BigInt(r.position) : m), BigInt(rows[0]?.position ?? 0));
        if (low > this.known) this.known = low;
        this.knownAt = performance.now();
        return this.known;
      } finally {
        this.inflight = null;
      }
    })();
    return this.inflight;
  }
}
