/**
 * The event store's head (its last global position) as read-your-writes needs it: to refuse at once a `minPosition`
 * the log has not reached, instead of holding the request for the whole wait (libs/contracts/src/read-your-writes.ts).
 *
 * The head is read with the store's `headPosition()` (PostgreSQL: one row of `eventstore.global_position`, the same
 * read as the projection-lag metrics and `/admin/projections`) and cached for {@link StoreHeadOptions.cacheMs}. A
 * position beyond the cached head is checked again against a fresh read before it is refused, so a client that has
 * just seen a new event (a command's reply) is never refused on a stale head. Concurrent reads share one query.
 */

/** Tuning of {@link StoreHead}. */
export interface StoreHeadOptions {
  /** How long (ms) a read head answers without a query (default 100). */
  cacheMs?: number;
}

/** Cached head of the event store; see the module comment. */
export class StoreHead {
  private head = -1n;
  private readAt = 0;
  private inflight: Promise<bigint> | null = null;
  private readonly cacheMs: number;

  /**
   * @param readHead the store's head position (e.g. `EventStore.headPosition`); may reject (database errors).
   * @param options see {@link StoreHeadOptions}.
   */
  constructor(
    private readonly readHead: () => Promise<bigint>,
    options: StoreHeadOptions = {},
  ) {
    this.cacheMs = options.cacheMs ?? 100;
  }

  /**
   * The head when `position` is beyond it (so no read model can ever reach it now), else null. A cached head below
   * `position` is confirmed by a fresh read first.
   * @param position a global position a client asks for.
   * @returns the head (< `position`), or null when `position` is at or below the head.
   * @throws database errors of the store's head read.
   */
  async beyondHead(position: bigint): Promise<bigint | null> {
    const fresh = this.readAt > 0 && performance.now() - this.readAt < this.cacheMs;
    if (fresh && position <= this.head) return null;
    const head = await this.read();
    return position > head ? head : null;
  }

  private read(): Promise<bigint> {
    this.inflight ??= this.readHead()
      .then((head) => {
        if (head > this.head) this.head = head;
        this.readAt = performance.now();
        return this.head;
      })
      .finally(() => {
        this.inflight = null;
      });
    return this.inflight;
  }
}
