/**
 * Viewer counts per channel in Redis, shared by every realtime edge.
 *
 * Each edge keeps its own count per channel in memory (sockets subscribed to the channel on this edge) and mirrors
 * it to Redis:
 * - `presence:{<channel>}:edge:<edgeId>` = count (string integer), `EX ttl` (default 30 s);
 * - `presence:{<channel>}:edges` = set of edge ids that reported the channel, same TTL.
 * Both are rewritten on every change and refreshed every `refreshMs` (default 10 s), so when an edge dies without
 * cleaning up its counts vanish within the TTL. A read sums the counts of the edges in the set (one Lua script,
 * atomic) and removes edges whose count key has expired. The `{<channel>}` hash tag keeps a channel's keys in one
 * Redis Cluster slot.
 *
 * Redis outages do not affect viewers: writes fail and are logged, and the next refresh restores the counts.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '@eventcast/platform';

/** Options of {@link Presence}. */
export interface PresenceOptions {
  /** TTL of this edge's count keys, in seconds. Default 30. */
  ttlSeconds?: number;
  /** Interval between refreshes of this edge's counts, in ms. Default 10 000 (must be well below the TTL). */
  refreshMs?: number;
}

const SUM_SCRIPT = `
local members = redis.call('SMEMBERS', KEYS[1])
local total = 0
for _, edge in ipairs(members) do
  local v = redis.call('GET', ARGV[1] .. edge)
  if v then total = total + tonumber(v) else redis.call('SREM', KEYS[1], edge) end
end
return total`;

/** Redis key of the set of edges reporting `channel`. */
export function presenceEdgesKey(channel: string): string {
  return `presence:{${channel}}:edges`;
}

/** Redis key of the viewer count of `channel` on edge `edgeId`. */
export function presenceCountKey(channel: string, edgeId: string): string {
  return `presence:{${channel}}:edge:${edgeId}`;
}

/** Per-edge viewer counting backed by Redis. See the module comment for the key layout. */
export class Presence {
  private readonly counts = new Map<string, number>();
  private readonly dirty = new Set<string>();
  private flushScheduled = false;
  private writes: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;
  private readonly ttlSeconds: number;

  /**
   * @param redis a client owned by the caller (not closed here).
   * @param edgeId unique id of this edge process.
   */
  constructor(
    private readonly redis: Redis,
    readonly edgeId: string,
    private readonly logger: Logger,
    options: PresenceOptions = {},
  ) {
    this.ttlSeconds = options.ttlSeconds ?? 30;
    this.timer = setInterval(() => this.refresh(), options.refreshMs ?? 10_000);
    this.timer.unref();
  }

  /** Counts one more viewer of `channel` on this edge (one subscribed socket). */
  join(channel: string): void {
    this.counts.set(channel, (this.counts.get(channel) ?? 0) + 1);
    this.markDirty(channel);
  }

  /** Counts one viewer fewer of `channel` on this edge. No-op below zero. */
  leave(channel: string): void {
    const n = this.counts.get(channel) ?? 0;
    if (n <= 1) this.counts.delete(channel);
    else this.counts.set(channel, n - 1);
    if (n > 0) this.markDirty(channel);
  }

  /** Viewers of `channel` on this edge only. */
  localCount(channel: string): number {
    return this.counts.get(channel) ?? 0;
  }

  /**
   * Viewers of `channel` summed over all live edges.
   * @throws the Redis error when Redis is unavailable.
   */
  async viewers(channel: string): Promise<number> {
    const total = await this.redis.eval(SUM_SCRIPT, 1, presenceEdgesKey(channel), presenceCountKey(channel, ''));
    return Number(total);
  }

  /** Resolves once every count change made so far has been written (or has failed). */
  async flushed(): Promise<void> {
    if (this.flushScheduled) await new Promise<void>((resolve) => setImmediate(resolve));
    await this.writes;
  }

  /** Stops refreshing and removes this edge's counts from Redis (best effort). Does not close the client. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    const channels = [...this.counts.keys()];
    this.counts.clear();
    await this.flushed();
    if (channels.length === 0) return;
    await this.write(channels).catch(() => undefined);
  }

  private markDirty(channel: string): void {
    this.dirty.add(channel);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      const channels = [...this.dirty];
      this.dirty.clear();
      this.enqueue(channels);
    });
  }

  private refresh(): void {
    if (this.counts.size > 0) this.enqueue([...this.counts.keys()]);
  }

  private enqueue(channels: string[]): void {
    this.writes = this.writes.then(() =>
      this.write(channels).catch((err: unknown) => this.logger.warn({ err, channels: channels.length }, 'presence write failed')),
    );
  }

  /** Writes the current counts of `channels` (absolute values, so retries and reordering are harmless). */
  private async write(channels: string[]): Promise<void> {
    const p = this.redis.pipeline();
    for (const channel of channels) {
      const n = this.counts.get(channel) ?? 0;
      if (n > 0) {
        p.set(presenceCountKey(channel, this.edgeId), String(n), 'EX', this.ttlSeconds);
        p.sadd(presenceEdgesKey(channel), this.edgeId);
        p.expire(presenceEdgesKey(channel), this.ttlSeconds);
      } else {
        p.del(presenceCountKey(channel, this.edgeId));
        p.srem(presenceEdgesKey(channel), this.edgeId);
      }
    }
    const results = await p.exec();
    const failed = results?.find(([err]) => err !== null);
    if (failed?.[0]) throw failed[0];
  }
}
