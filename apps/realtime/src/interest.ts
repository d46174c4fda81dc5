/**
 * The edge's interest in the events stream (docs/design.md "Edge interest"): the edge takes from NATS only what its
 * own viewers need, so its NATS traffic grows with its viewers, not with the platform's total.
 *
 * - One ordered consumer per watched channel, filter `eventcast.events.*.<channel>.*` (the channel token of
 *   `eventSubject`, @eventcast/events): made when the first viewer on this edge subscribes to the channel, stopped
 *   when the last one leaves. Each is an {@link EventRelay} with its own stream cursor, so a channel's viewers get its
 *   events exactly once and in order, also across NATS restarts.
 * - The directory feed (go-live/offline and titles of every channel): two ordered consumers for the life of the
 *   edge, `eventcast.events.broadcast.*.*` and `eventcast.events.account.*.ChannelInfoUpdated` (NATS 2.9 has no
 *   multi-filter consumers). They carry no chat, only the low-rate broadcast and account events; the edge is ready
 *   (`consuming`) while both are attached.
 * One watcher of the connection's status forwards disconnect/reconnect to every relay.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { Category, eventFilter } from '@eventcast/events';
import type { Logger } from '@eventcast/platform';
import { EventRelay } from './relay.js';
import type { RelayDecision } from './relayable.js';

/** A relayable decision (`relay: true`). */
type Relayable = RelayDecision & { relay: true };

/** Options of {@link EdgeInterest}. */
export interface EdgeInterestOptions {
  /** Longest retry delay of a relay's consumer, in ms (./relay.ts). Default 1000. */
  retryMs?: number;
}

interface Watched {
  relay: EventRelay;
  /** Subscriptions of this edge's sockets to the channel. */
  viewers: number;
}

/** The subject filters of the directory feed's consumers. */
export const DIRECTORY_FILTERS: readonly string[] = [
  eventFilter({ category: Category.Broadcast }),
  eventFilter({ category: Category.Account, type: 'ChannelInfoUpdated' }),
];

/** Per-channel and directory relays of one edge. */
export class EdgeInterest {
  private readonly channels = new Map<string, Watched>();
  private readonly directoryRelays: EventRelay[];
  private nc: NatsConnection | undefined;
  private stopped = false;
  private readonly retryMs: number;

  /**
   * @param route called for each relayable event of a watched channel (publish to the channel's topic).
   * @param routeDirectory called for each relayable event of the directory feed's consumers.
   */
  constructor(
    private readonly route: (d: Relayable) => void,
    routeDirectory: (d: Relayable) => void,
    private readonly logger: Logger,
    options: EdgeInterestOptions = {},
  ) {
    this.retryMs = options.retryMs ?? 1000;
    this.directoryRelays = DIRECTORY_FILTERS.map(
      (filter) => new EventRelay((_c, _f, d) => routeDirectory(d), logger.child({ relay: 'directory' }), { retryMs: this.retryMs, filter, followConnection: false, countMetrics: false }),
    );
  }

  /**
   * Starts the directory relays and the relays of channels watched so far (idempotent).
   * @param nc the edge's NATS connection; it must outlive {@link stop}.
   * @returns a promise resolved once the directory relays are attached.
   */
  start(nc: NatsConnection): Promise<void> {
    if (!this.nc) {
      this.nc = nc;
      void this.watchConnection(nc);
      for (const w of this.channels.values()) void w.relay.start(nc);
    }
    return Promise.all(this.directoryRelays.map((r) => r.start(nc))).then(() => undefined);
  }

  /** True while NATS is connected and the directory relays are attached (readiness). */
  get consuming(): boolean {
    return this.directoryRelays.every((r) => r.consuming);
  }

  /** Channels with a consumer on this edge now. */
  get watchedChannels(): string[] {
    return [...this.channels.keys()];
  }

  /** One more subscription of a socket of this edge to `channel`: the first makes the channel's consumer. */
  watch(channel: string): void {
    let w = this.channels.get(channel);
    if (!w) {
      const relay = new EventRelay((_c, _f, d) => this.route(d), this.logger.child({ relay: channel }), {
        retryMs: this.retryMs,
        filter: eventFilter({ channel }),
        followConnection: false,
      });
      w = { relay, viewers: 0 };
      this.channels.set(channel, w);
      if (this.nc && !this.stopped) void relay.start(this.nc);
    }
    w.viewers += 1;
  }

  /** One subscription to `channel` less: after the last one the channel's consumer is stopped. */
  unwatch(channel: string): void {
    const w = this.channels.get(channel);
    if (!w) return;
    w.viewers -= 1;
    if (w.viewers > 0) return;
    this.channels.delete(channel);
    void w.relay.stop();
  }

  /**
   * The `subscribed` frame's position for `channel` (its relay's {@link EventRelay.lastPosition}): at once when the
   * channel's consumer is attached, else once it is (pending while NATS is unreachable). "0" for an unwatched channel.
   */
  position(channel: string): string | Promise<string> {
    const w = this.channels.get(channel);
    if (!w) return '0';
    const { relay } = w;
    return relay.hasAttached ? relay.lastPosition : relay.attached.then(() => relay.lastPosition);
  }

  /** Stops every relay and waits for them. Events arriving after this are not relayed. */
  async stop(): Promise<void> {
    this.stopped = true;
    const relays = [...this.directoryRelays, ...[...this.channels.values()].map((w) => w.relay)];
    this.channels.clear();
    await Promise.all(relays.map((r) => r.stop()));
  }

  private async watchConnection(nc: NatsConnection): Promise<void> {
    try {
      for await (const s of nc.status()) {
        if (this.stopped) break;
        for (const r of this.directoryRelays) r.connectionStatus(s.type);
        for (const w of this.channels.values()) w.relay.connectionStatus(s.type);
      }
    } catch {
      // the status iterator ends with the connection
    }
  }
}
