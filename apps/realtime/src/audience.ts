/**
 * Analytics input from the edge (docs/contracts.md "Analytics"): viewer-count samples and unique viewers, recorded as
 * events by the command side over NATS request/reply (`audience.sample`, `audience.viewers-joined`), so they are
 * stored before anything is published and the analytics read models can be rebuilt from the event store alone.
 *
 * Sampling: every `sampleSeconds` (default 15, aligned to the period boundaries of the wall clock plus ≤ 250 ms
 * jitter) each edge tries, for every channel it has viewers of, the Redis lock `analytics:{<channel>}:sample:<period>`
 * (`SET NX EX 2·period`). The one edge that wins reads the channel's totals over all edges (./presence.ts) and asks
 * the command side to record them: one sample per channel per period however many edges run. The command side
 * records it only while the channel is live (reply `not_live` otherwise) and drops a sample within half a period of
 * the previous one (a lock lost to a Redis failover).
 *
 * Unique viewers: each subscribed socket has a viewer key — `account:<id>` when signed in, else `guest:<32 hex>`, the
 * truncated HMAC-SHA256 of the browser's anonymous session id (`?sid=` on the upgrade, else the connection id) under
 * a secret shared by the edges. No IP address or raw session id leaves the edge. Keys present on a channel and not yet
 * acknowledged for its live broadcast are sent (≤ 500 per request) `joinFlushMs` after a join and on every sampling
 * tick (which also covers viewers who were waiting before the broadcast started); the command side records each key
 * once per broadcast.
 *
 * Failures (Redis, NATS, the command side) are logged and retried on the next tick; viewers never notice.
 */
import { createHmac } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Redis } from 'ioredis';
import { MAX_VIEWER_KEYS_PER_REQUEST, type AudienceReply, type AudienceSampleRequest, type AudienceViewersJoinedRequest } from '@eventcast/contracts';
import { CommandPatterns, DEFAULT_VIEWER_SAMPLE_SECONDS } from '@eventcast/events';
import type { Logger } from '@eventcast/platform';
import type { AuthUser } from './auth.js';
import { nestRequest } from './command-client.js';
import type { Presence } from './presence.js';

/** Options of {@link AudienceTracker}. */
export interface AudienceOptions {
  /** Sampling period in seconds (`REALTIME_VIEWER_SAMPLE_SECONDS`, default 15); 0 turns analytics input off. */
  sampleSeconds: number;
  /** Delay before new viewer keys are sent, in ms (default 1000): a burst of joins costs one request. */
  joinFlushMs: number;
  /** Deadline of one request to the command side, in ms (default 3000). */
  requestTimeoutMs: number;
}

/** Default {@link AudienceOptions}. */
export const DEFAULT_AUDIENCE_OPTIONS: AudienceOptions = { sampleSeconds: DEFAULT_VIEWER_SAMPLE_SECONDS, joinFlushMs: 1000, requestTimeoutMs: 3000 };

/**
 * Reads `REALTIME_VIEWER_SAMPLE_SECONDS` (integer 0–3600, default 15).
 * @throws {Error} when it is not such an integer.
 */
export function loadAudienceOptions(env: NodeJS.ProcessEnv = process.env): AudienceOptions {
  const raw = env['REALTIME_VIEWER_SAMPLE_SECONDS'];
  let sampleSeconds = DEFAULT_VIEWER_SAMPLE_SECONDS;
  if (raw !== undefined && raw !== '') {
    sampleSeconds = Number(raw);
    if (!Number.isInteger(sampleSeconds) || sampleSeconds < 0 || sampleSeconds > 3600) {
      throw new Error('invalid configuration: REALTIME_VIEWER_SAMPLE_SECONDS must be an integer from 0 to 3600');
    }
  }
  return { ...DEFAULT_AUDIENCE_OPTIONS, sampleSeconds };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Accepted anonymous session ids from the browser (`?sid=`). */
export const SESSION_ID = /^[A-Za-z0-9_-]{16,64}$/;

/**
 * The viewer key of a socket: `account:<id>` for a signed-in user with a UUID account id, else
 * `guest:<first 32 hex of HMAC-SHA256(secret, "viewer:" + sessionId)>`.
 */
export function viewerKey(user: AuthUser | null, sessionId: string, secret: string): string {
  if (user && UUID.test(user.id)) return `account:${user.id}`;
  // hex of the first 16 bytes: a flat 32-character string, not a slice that keeps the whole 64-character digest alive
  return `guest:${createHmac('sha256', secret).update(`viewer:${sessionId}`).digest().toString('hex', 0, 16)}`;
}

/** Redis key of the sampling lock of `channel` for sampling period number `period`. */
export function sampleLockKey(channel: string, period: number): string {
  return `analytics:{${channel}}:sample:${period}`;
}

/** What the tracker needs to resolve a channel's id. */
export interface ChannelIds {
  resolve(username: string): Promise<string | null>;
}

interface ChannelAudience {
  /** Viewer keys subscribed on this edge, with their socket counts. */
  present: Map<string, number>;
  /** The broadcast the `acked` keys were recorded on. */
  broadcastId: string | null;
  acked: Set<string>;
  /** True after a `not_live` reply until the next tick: joins do not trigger requests. */
  offline: boolean;
}


function isReply(r: unknown): r is AudienceReply {
  if (typeof r !== 'object' || r === null) return false;
  const o = r as Record<string, unknown>;
  return (o['ok'] === true && typeof o['broadcastId'] === 'string') || (o['ok'] === false && typeof o['code'] === 'string');
}

/** Counters (tests, metrics). */
export interface AudienceStats {
  samplesSent: number;
  samplesRecorded: number;
  locksLost: number;
  joinRequests: number;
  viewersRecorded: number;
}

/** Samples viewer counts and reports viewer keys of the channels this edge serves. */
export class AudienceTracker {
  private readonly channels = new Map<string, ChannelAudience>();
  private readonly flushDue = new Set<string>();
  private flushTimer: NodeJS.Timeout | null = null;
  private tickTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private running: Promise<void> = Promise.resolve();
  readonly stats: AudienceStats = { samplesSent: 0, samplesRecorded: 0, locksLost: 0, joinRequests: 0, viewersRecorded: 0 };

  /**
   * @param secret keys the guest hashes (the edges' shared `JWT_SECRET` is used by the server; never logged).
   */
  constructor(
    private readonly deps: {
      redis: Redis;
      presence: Presence;
      directory: ChannelIds;
      connection: () => NatsConnection | undefined;
      edgeId: string;
      logger: Logger;
    },
    private readonly secret: string,
    readonly options: AudienceOptions = DEFAULT_AUDIENCE_OPTIONS,
  ) {
    if (options.sampleSeconds > 0) this.scheduleTick();
  }

  /** True when analytics input is on (`sampleSeconds` > 0). */
  get enabled(): boolean {
    return this.options.sampleSeconds > 0 && !this.closed;
  }

  /** The viewer key of a socket (see {@link viewerKey}). */
  keyOf(user: AuthUser | null, sessionId: string): string {
    return viewerKey(user, sessionId, this.secret);
  }

  /** A socket with viewer key `key` subscribed to `channel` on this edge. */
  join(channel: string, key: string): void {
    if (!this.enabled) return;
    let c = this.channels.get(channel);
    if (!c) {
      c = { present: new Map(), broadcastId: null, acked: new Set(), offline: false };
      this.channels.set(channel, c);
    }
    c.present.set(key, (c.present.get(key) ?? 0) + 1);
    if (!c.acked.has(key) && !c.offline) this.scheduleFlush(channel);
  }

  /** A socket with viewer key `key` left `channel` (unsubscribe, close, or a sign-in changed its key). */
  leave(channel: string, key: string): void {
    const c = this.channels.get(channel);
    if (!c) return;
    const n = (c.present.get(key) ?? 0) - 1;
    if (n > 0) c.present.set(key, n);
    else c.present.delete(key);
    if (c.present.size === 0) this.channels.delete(channel);
  }

  /** Stops the timers and waits for the requests in flight. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.tickTimer) clearTimeout(this.tickTimer);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    await this.running;
  }

  /**
   * One sampling round (normally run by the timer): takes the period's lock of every local channel in one Redis
   * pipeline, samples the channels won, then sends the unacknowledged viewer keys of every local channel.
   */
  async tick(now = Date.now()): Promise<void> {
    const channels = [...this.channels.keys()];
    for (const c of this.channels.values()) c.offline = false;
    if (channels.length === 0) return;
    const periodMs = this.options.sampleSeconds * 1000;
    const period = Math.floor(now / periodMs);
    let won: string[] = [];
    try {
      const p = this.deps.redis.pipeline();
      for (const ch of channels) p.set(sampleLockKey(ch, period), this.deps.edgeId, 'EX', this.options.sampleSeconds * 2, 'NX');
      const results = (await p.exec()) ?? [];
      won = channels.filter((_, i) => results[i]?.[0] === null && results[i]?.[1] === 'OK');
      this.stats.locksLost += channels.length - won.length;
    } catch (err) {
      this.deps.logger.warn({ err }, 'analytics: sampling lock failed');
    }
    if (won.length > 0) {
      try {
        await this.deps.presence.flushed();
        const totals = await this.deps.presence.totalsMany(won);
        const sampledAt = new Date(now).toISOString();
        await Promise.all(
          [...totals].map(async ([channel, t]) => {
            const channelId = await this.deps.directory.resolve(channel).catch(() => null);
            if (!channelId) return;
            const sample: AudienceSampleRequest = {
              channelId,
              viewers: t.viewers,
              chatters: Math.min(t.chatters, t.viewers),
              sampledAt,
              intervalSeconds: this.options.sampleSeconds,
            };
            const reply = await this.request(CommandPatterns.AudienceSample, sample);
            this.stats.samplesSent++;
            if (reply?.ok) this.stats.samplesRecorded += reply.recorded;
          }),
        );
      } catch (err) {
        this.deps.logger.warn({ err }, 'analytics: sampling failed');
      }
    }
    await Promise.all(channels.map((ch) => this.flush(ch)));
  }

  private scheduleTick(): void {
    const periodMs = this.options.sampleSeconds * 1000;
    const wait = periodMs - (Date.now() % periodMs) + Math.floor(Math.random() * 250);
    this.tickTimer = setTimeout(() => {
      if (this.closed) return;
      this.running = this.running.then(() => this.tick()).catch((err: unknown) => this.deps.logger.warn({ err }, 'analytics tick failed'));
      this.scheduleTick();
    }, wait);
    this.tickTimer.unref();
  }

  private scheduleFlush(channel: string): void {
    this.flushDue.add(channel);
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      const due = [...this.flushDue];
      this.flushDue.clear();
      if (this.closed) return;
      this.running = this.running.then(() => Promise.all(due.map((ch) => this.flush(ch))).then(() => undefined));
    }, this.options.joinFlushMs);
    this.flushTimer.unref();
  }

  /** Sends the present, unacknowledged viewer keys of `channel` in requests of ≤ MAX_VIEWER_KEYS_PER_REQUEST (500) keys. */
  private async flush(channel: string): Promise<void> {
    const c = this.channels.get(channel);
    if (!c || c.offline) return;
    const keys = [...c.present.keys()].filter((k) => !c.acked.has(k));
    if (keys.length === 0) return;
    const channelId = await this.deps.directory.resolve(channel).catch(() => null);
    if (!channelId) return;
    for (let i = 0; i < keys.length; i += MAX_VIEWER_KEYS_PER_REQUEST) {
      const joined: AudienceViewersJoinedRequest = { channelId, viewerKeys: keys.slice(i, i + MAX_VIEWER_KEYS_PER_REQUEST) };
      const reply = await this.request(CommandPatterns.AudienceViewersJoined, joined);
      this.stats.joinRequests++;
      if (!reply) return;
      if (!reply.ok) {
        if (reply.code === 'not_live') c.offline = true;
        else this.deps.logger.warn({ channel, code: reply.code, message: reply.message }, 'analytics: viewer keys refused');
        return;
      }
      if (c.broadcastId !== reply.broadcastId) {
        c.broadcastId = reply.broadcastId;
        c.acked.clear();
      }
      for (const k of joined.viewerKeys) c.acked.add(k);
      this.stats.viewersRecorded += reply.recorded;
    }
  }

  /** One request; null (logged) when the command side cannot be reached or answers malformed. */
  private async request(pattern: string, data: unknown): Promise<AudienceReply | null> {
    try {
      const r = await nestRequest(this.deps.connection(), pattern, data, this.options.requestTimeoutMs);
      if (!isReply(r)) throw new Error(`${pattern}: malformed reply`);
      return r;
    } catch (err) {
      this.deps.logger.warn({ err, pattern }, 'analytics: command side request failed');
      return null;
    }
  }
}
