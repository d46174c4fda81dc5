/**
 * A persistent (immutable) set of ids split into hash buckets, so adding or removing one id copies one bucket
 * (about size / 64 ids) instead of the whole set. Used for states that may grow large (bans, followers), where
 * folding a long stream with copy-on-write `Set`s would cost O(n²).
 */

const BUCKETS = 64;

/** An immutable id set; build with {@link emptyIdSet} and {@link idSetAdd}. */
export interface IdSet {
  readonly buckets: readonly (ReadonlySet<string> | undefined)[];
  readonly size: number;
}

/** The empty set. */
export const emptyIdSet: IdSet = { buckets: [], size: 0 };

function bucketOf(id: string): number {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (Math.imul(h, 31) + id.charCodeAt(i)) | 0;
  return (h >>> 0) % BUCKETS;
}

/** True when `id` is in `set`. O(1). */
export function idSetHas(set: IdSet, id: string): boolean {
  return set.buckets[bucketOf(id)]?.has(id) ?? false;
}

/** `set` with `id` added (the same object when it was already there). */
export function idSetAdd(set: IdSet, id: string): IdSet {
  if (idSetHas(set, id)) return set;
  const b = bucketOf(id);
  const bucket = new Set(set.buckets[b]);
  bucket.add(id);
  const buckets = set.buckets.slice();
  buckets[b] = bucket;
  return { buckets, size: set.size + 1 };
}

/** `set` without `id` (the same object when it was not there). */
export function idSetDelete(set: IdSet, id: string): IdSet {
  if (!idSetHas(set, id)) return set;
  const b = bucketOf(id);
  const bucket = new Set(set.buckets[b]);
  bucket.delete(id);
  const buckets = set.buckets.slice();
  buckets[b] = bucket;
  return { buckets, size: set.size - 1 };
}
