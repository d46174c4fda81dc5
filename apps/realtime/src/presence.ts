/**
 * Viewer and chatter counts per channel in Redis, shared by every realtime edge.
 *
 * Each edge keeps its own counts per channel in memory (viewers = sockets subscribed to the channel on this edge,
 * chatters = those of them that are signed in) and mirrors them to Redis:
 * - `presence:{<channel>}:edge:<edgeId>` = viewer count (string integer), `EX ttl` (default 30 s);
 * - `presence:{<channel>}:chatters:<edgeId>` = chatter count, same TTL;
 * - `presence:{<channel>}:edges` = set of edge ids that reported the channel, same TTL.
 * Both are rewritten on every change and refreshed every `refreshMs` (default 10 s), so when an edge dies without
 * cleaning up its counts vanish within the TTL. A read sums the counts of the edges in the set (one Lua script,
 * atomic) and removes edges whose viewer key has expired. The `{<channel>}` hash tag keeps a channel's keys in one
 * Redis Cluster slot.
 *
 * Redis outages do not affect viewers: writes fail and are logged, and the next refresh restores the counts.
 */
import type { ChainableCommander, Redis } from 'ioredis';
import type { Logger } from '@eventcast/platform';
import type { PresenceCounts } from './protocol.js';

/** Options of {@link Presence}. */
export interface PresenceOptions {
  /** TTL of this edge's count keys, in seconds. Default 30. */
  ttlSeconds?: number;
  /** Interval between refreshes of this edge's counts, in ms. Default 10 000 (must be well below the TTL). */
  refreshMs?: number;
}

/** KEYS[1] = edges set; ARGV[1] = viewer key prefix, ARGV[2] = chatter key prefix → `{viewers, chatters}`. */
const SUM_SCRIPT = `
local members = redis.call('SMEMBERS', KEYS[1])
local viewers = 0
local chatters = 0
for _, edge in ipairs(members) do
  local v = redis.call('GET', ARGV[1] .. edge)
  if v then
    viewers = viewers + tonumber(v)
    local c = redis.call('GET', ARGV[2] .. edge)
    if c then chatters = chatters + tonumber(c) end
  else
    redis.call('SREM', KEYS[1], edge)
  end
end
return {viewers, chatters}`;

/** Name of the ioredis custom command running {@link SUM_SCRIPT} (EVALSHA with EVAL fallback). */
const SUM_COMMAND = 'eventcastPresenceCounts';

type SumCommand = (edgesKey: string, viewerPrefix: string, chatterPrefix: string) => Promise<[number, number]>;

/** Redis key of the set of edges reporting `channel`. */
export function presenceEdgesKey(channel: string): string {
  return `presence:{${channel}}:edges`;
}

/** Redis key of the viewer count of `channel` on edge `edgeId`. */
export function presenceCountKey(channel: string, edgeId: string): string {
  return `presence:{${channel}}:edge:${edgeId}`;
}

/** Redis key of the chatter (signed-in viewer) count of `channel` on edge `edgeId`. */
export function presenceChattersKey(channel: string, edgeId: string): string {
  return `presence:{${channel}}:chatters:${edgeId}`;
}

interface LocalCounts {
  viewers: number;
  chatters: number;
}

/** Per-edge viewer/chatter counting backed by Redis. See the module comment for the key layout. */
export class Presence {
  private readonly counts = new Map<string, LocalCounts>();
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
    if (!(SUM_COMMAND in redis)) redis.defineCommand(SUM_COMMAND, { numberOfKeys: 1, lua: SUM_SCRIPT });
    this.timer = setInterval(() => this.refresh(), options.refreshMs ?? 10_000);
    this.timer.unref();
  }

  /**
   * Counts one more viewer of `channel` on this edge (one subscribed socket).
   * @param chatter true when the socket is signed in (also counts a chatter).
   */
  join(channel: string, chatter = false): void {
    const c = this.counts.get(channel) ?? { viewers: 0, chatters: 0 };
    c.viewers += 1;
    if (chatter) c.chatters += 1;
    this.counts.set(channel, c);
    this.markDirty(channel);
  }

  /**
   * Counts one viewer fewer of `channel` on this edge. No-op below zero.
   * @param chatter true when the socket was counted as a chatter.
   */
  leave(channel: string, chatter = false): void {
    const c = this.counts.get(channel);
    if (!c) return;
    c.viewers -= 1;
    if (chatter && c.chatters > 0) c.chatters -= 1;
    if (c.viewers <= 0) this.counts.delete(channel);
    this.markDirty(channel);
  }

  /**
   * A subscribed socket signed in (`delta` +1) or lost its sign-in (-1): adjusts the chatters of `channel` only.
   * No-op when this edge has no viewer of `channel`.
   */
  changeChatters(channel: string, delta: 1 | -1): void {
    const c = this.counts.get(channel);
    if (!c) return;
    c.chatters = Math.max(0, Math.min(c.viewers, c.chatters + delta));
    this.markDirty(channel);
  }

  /** Viewers of `channel` on this edge only. */
  localCount(channel: string): number {
    return this.counts.get(channel)?.viewers ?? 0;
  }

  /** Channels with at least one viewer on this edge. */
  localChannels(): string[] {
    return [...this.counts.keys()];
  }

  /**
   * Viewers of `channel` summed over all live edges.
   * @throws the Redis error when Redis is unavailable.
   */
  async viewers(channel: string): Promise<number> {
    return (await this.totals(channel)).viewers;
  }

  /**
   * Viewers and chatters of `channel` summed over all live edges (one Lua call).
   * @throws the Redis error when Redis is unavailable.
   */
  async totals(channel: string): Promise<PresenceCounts> {
    const sum = (this.redis as unknown as Record<string, SumCommand>)[SUM_COMMAND] as SumCommand;
    const [viewers, chatters] = await sum.call(this.redis, ...this.sumArgs(channel));
    return { viewers: Number(viewers), chatters: Number(chatters) };
  }

  /**
   * Totals of several channels in one round trip (a pipeline of one Lua call per channel).
   * @returns a map with an entry for every channel whose read succeeded.
   * @throws the Redis error when the pipeline cannot be sent.
   */
  async totalsMany(channels: readonly string[]): Promise<Map<string, PresenceCounts>> {
    const out = new Map<string, PresenceCounts>();
    if (channels.length === 0) return out;
    const p = this.redis.pipeline() as ChainableCommander & Record<string, (...args: string[]) => ChainableCommander>;
    const add = p[SUM_COMMAND] as (...args: string[]) => ChainableCommander;
    for (const channel of channels) add.call(p, ...this.sumArgs(channel));
    const results = (await p.exec()) ?? [];
    channels.forEach((channel, i) => {
      const [err, value] = results[i] ?? [new Error('no result'), null];
      if (err || !Array.isArray(value)) return;
      out.set(channel, { viewers: Number(value[0]), chatters: Number(value[1]) });
    });
    return out;
  }

  private sumArgs(channel: string): [string, string, string] {
    return [presenceEdgesKey(channel), presenceCountKey(channel, ''), presenceChattersKey(channel, '')];
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
      const c = this.counts.get(channel);
      if (c && c.viewers > 0) {
        p.set(presenceCountKey(channel, this.edgeId), String(c.viewers), 'EX', this.ttlSeconds);
        p.set(presenceChattersKey(channel, this.edgeId), String(c.chatters), 'EX', this.ttlSeconds);
        p.sadd(presenceEdgesKey(channel), this.edgeId);
        p.expire(presenceEdgesKey(channel), this.ttlSeconds);
      } else {
        p.del(presenceCountKey(channel, this.edgeId), presenceChattersKey(channel, this.edgeId));
        p.srem(presenceEdgesKey(channel), this.edgeId);
      }
    }
    const results = await p.exec();
    const failed = results?.find(([err]) => err !== null);
    if (failed?.[0]) throw failed[0];
  }
}
