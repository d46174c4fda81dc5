/**
 * Paging through the global log with the next page prefetched while the caller works on the current one (the
 * read of page n+1 overlaps the processing of page n).
 */

/**
 * Pages of `read(after, limit)` until a short page, or until a page passes `until` (cut there).
 * @param positionOf the global position of an item (pages are in position order).
 */
export async function* prefetchPages<T>(
  read: (after: bigint, limit: number) => Promise<T[]>,
  positionOf: (item: T) => bigint,
  after: bigint,
  limit: number,
  until?: bigint,
): AsyncGenerator<T[]> {
  let next: Promise<T[]> | null = read(after, limit);
  try {
    while (next) {
      const page: T[] = await next;
      next = null;
      if (page.length === 0) return;
      const last = positionOf(page[page.length - 1]!);
      if (page.length === limit && (until === undefined || last < until)) next = read(last, limit);
      if (until !== undefined && last > until) {
        const cut = page.filter((e) => positionOf(e) <= until);
        if (cut.length > 0) yield cut;
        return;
      }
      yield page;
    }
  } finally {
    // An abandoned prefetch must not become an unhandled rejection.
    next?.catch(() => undefined);
  }
}

/**
 * Pages of the UNFILTERED global log from `after` to `head`, read by position range with up to `depth` reads in
 * flight (PostgreSQL answers them on several connections and cores while this process formats), yielded in order.
 * Relies on the port's guarantee that global positions are gap-free: page k is exactly positions
 * `(after + k·limit, after + (k+1)·limit]`. Do not use with type or category filters (their positions have gaps).
 * @throws {Error} when a page is not the exact range (a store without gap-free positions).
 */
export async function* parallelRangePages<T>(
  read: (after: bigint, limit: number) => Promise<T[]>,
  positionOf: (item: T) => bigint,
  after: bigint,
  head: bigint,
  limit: number,
  depth: number,
): AsyncGenerator<T[]> {
  const step = BigInt(limit);
  const inFlight: { from: bigint; page: Promise<T[]> }[] = [];
  let next = after;
  const fill = () => {
    while (inFlight.length < depth && next < head) {
      const size = head - next < step ? Number(head - next) : limit;
      inFlight.push({ from: next, page: read(next, size) });
      next += BigInt(size);
    }
  };
  try {
    fill();
    while (inFlight.length > 0) {
      const { from, page: pending } = inFlight.shift()!;
      const page = await pending;
      fill();
      if (page.length > 0 && positionOf(page[0]!) !== from + 1n) throw new Error(`global positions are not gap-free after ${from}`);
      if (page.length > 0) yield page;
    }
  } finally {
    for (const f of inFlight) f.page.catch(() => undefined);
  }
}
