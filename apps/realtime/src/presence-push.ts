/**
 * Pushes `{ type: 'presence', channel, viewers, chatters }` (docs/chat.md) to a channel's topic:
 * - after a subscribe (so the new viewer gets the numbers at once), throttled to one push per channel per
 *   `minPushIntervalMs` on this edge — a burst of subscribes costs one Redis read and one fan-out, not one per socket;
 * - every `intervalMs` (5 s) for every channel with viewers on this edge, only when the numbers changed since the
 *   last push. Each tick reads all those channels in one Redis pipeline: one Lua read per channel per tick per edge.
 * The frame is encoded once and published to the uWS topic (C++ fan-out). Redis failures skip the push (logged).
 */
import type { Logger } from '@eventcast/platform';
import type { Presence } from './presence.js';
import { encodeFrame, type PresenceCounts } from './protocol.js';

/** Options of {@link PresencePusher}. */
export interface PresencePushOptions {
  /** Periodic push interval in ms. Default 5000. */
  intervalMs?: number;
  /** Least time between two subscribe-triggered pushes of one channel, in ms. Default 1000. */
  minPushIntervalMs?: number;
}

/** Schedules presence frames per channel. */
export class PresencePusher {
  private readonly last = new Map<string, { key: string; at: number }>();
  private readonly due = new Set<string>();
  private readonly trailing = new Map<string, NodeJS.Timeout>();
  private flushScheduled = false;
  private readonly timer: NodeJS.Timeout;
  private readonly minPushIntervalMs: number;
  private closed = false;

  /** @param publish sends an encoded frame to every subscriber of `channel` on this edge. */
  constructor(
    private readonly presence: Presence,
    private readonly publish: (channel: string, frame: string) => void,
    private readonly logger: Logger,
    options: PresencePushOptions = {},
  ) {
    this.minPushIntervalMs = options.minPushIntervalMs ?? 1000;
    this.timer = setInterval(() => void this.tick(), options.intervalMs ?? 5000);
    this.timer.unref();
  }

  /** A socket subscribed to `channel`: push the channel's numbers soon (throttled, see the module comment). */
  subscribed(channel: string): void {
    if (this.closed || this.due.has(channel) || this.trailing.has(channel)) return;
    const wait = (this.last.get(channel)?.at ?? -Infinity) + this.minPushIntervalMs - Date.now();
    if (wait > 0) {
      const t = setTimeout(() => {
        this.trailing.delete(channel);
        this.markDue(channel);
      }, wait);
      this.trailing.set(channel, t);
      return;
    }
    this.markDue(channel);
  }

  /** Stops the timers. */
  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    for (const t of this.trailing.values()) clearTimeout(t);
    this.trailing.clear();
  }

  /** One periodic round: reads every local channel, pushes the changed ones, forgets channels without viewers. */
  async tick(): Promise<void> {
    const channels = this.presence.localChannels();
    const local = new Set(channels);
    for (const ch of this.last.keys()) if (!local.has(ch)) this.last.delete(ch);
    await this.push(channels, false);
  }

  private markDue(channel: string): void {
    this.due.add(channel);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      const channels = [...this.due];
      this.due.clear();
      void this.push(channels, true);
    });
  }

  private async push(channels: string[], always: boolean): Promise<void> {
    if (channels.length === 0 || this.closed) return;
    let totals: Map<string, PresenceCounts>;
    try {
      await this.presence.flushed(); // include the joins that triggered this push
      totals = await this.presence.totalsMany(channels);
    } catch (err) {
      this.logger.warn({ err, channels: channels.length }, 'presence read failed');
      return;
    }
    if (this.closed) return;
    const now = Date.now();
    for (const [channel, { viewers, chatters }] of totals) {
      const key = `${viewers}:${chatters}`;
      if (!always && this.last.get(channel)?.key === key) continue;
      this.last.set(channel, { key, at: now });
      this.publish(channel, encodeFrame({ type: 'presence', channel, viewers, chatters }));
    }
  }
}
