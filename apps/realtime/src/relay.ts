/**
 * Relays domain events from NATS JetStream to uWS topics.
 *
 * Source: JetStream stream `EVENTCAST_EVENTS` (subjects `eventcast.events.<category>.<channel>.<type>`,
 * docs/contracts.md), through one ordered consumer per *filter*: the edge makes one per channel its viewers watch
 * (filter `eventcast.events.*.<channel>.*`, ./interest.ts) and the directory feed's (go-live/offline, titles), so it
 * receives from NATS only the channels it serves (docs/design.md "Edge interest"). The edge is stateless, so each
 * relay reads with an ephemeral *ordered* consumer: nothing to ack, nothing to clean up. The first consumer starts after
 * the stream's last message at creation (what deliver policy `new` does); from then on the relay keeps its own cursor,
 * the stream sequence after the last message it took, and every later consumer starts there (deliver policy
 * `by_start_sequence`, JetStream consumer docs). So after a gap (NATS restarted, the edge's connection dropped)
 * viewers get what they missed exactly once and in order: messages below the cursor are skipped.
 *
 * Resuming does not wait for the ordered consumer's missed-heartbeat timer (two idle heartbeats, ≈ 30–60 s with
 * nats.js defaults): on the connection's `reconnect` status the current consumer is stopped and a new one is made from
 * the cursor at once (retried after 100 ms, doubling up to `retryMs`, while JetStream is not ready yet; a consumer that
 * ends within 1 s of attaching backs off the same way, {@link nextRelayRetry}). `consuming` is
 * true only while NATS is connected and a consumer is attached. If the stream was reset (its last sequence is below the
 * cursor: deleted and re-created) the cursor moves to the new end; if messages after the cursor are gone (limits),
 * the relay starts at the first one left and logs the loss.
 */
import { DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { EVENTS_JETSTREAM } from '@eventcast/events';
import { ensureEventsStream } from '@eventcast/events/jetstream';
import type { Logger } from '@eventcast/platform';
import { edgeMetrics } from './metrics.js';
import { decodeRelayable, type RelayDecision } from './relayable.js';

/** Options of {@link EventRelay}. */
export interface EventRelayOptions {
  /** Longest delay before starting a new consumer after a failure, in ms (first retry after 100 ms). Default 1000. */
  retryMs?: number;
  /**
   * Subject filter of the consumer (`filter_subject`, one subject with wildcards: NATS 2.9 has no multi-filter
   * consumers), e.g. `eventcast.events.*.alice.*`. Default: every event (`eventcast.events.>`).
   */
  filter?: string;
  /**
   * Follow the connection's status itself (default true). False when the owner of many relays forwards it through
   * {@link EventRelay.connectionStatus} (one status watcher per connection instead of one per relay).
   */
  followConnection?: boolean;
  /**
   * Count relayed and ignored messages in the edge's metrics (`eventcast_realtime_events_relayed_total`, `…_ignored_total`;
   * default true). The directory feed's relays pass false: the events they take are counted by the channel relays.
   */
  countMetrics?: boolean;
}

/** Header with the event's global position (decimal), set by the publisher on every message (docs/contracts.md). */
const POSITION_HEADER = 'Eventcast-Global-Position';

/** The global position a message carries in its header, or null when it has none. */
function positionOf(headers: { get(k: string): string } | undefined): string | null {
  const v = headers?.get(POSITION_HEADER);
  return v && /^\d+$/.test(v) ? v : null;
}

/** First retry delay after a failed consumer, in ms (doubling up to `retryMs`). */
const FIRST_RETRY_MS = 100;

/** A consumer that stayed attached at least this long (ms) counts as healthy: the next one is made at once. */
export const RELAY_HEALTHY_CONSUMER_MS = 1000;

/**
 * The relay's retry policy: how long to wait (ms) before making the next consumer, and the backoff to carry on.
 * A consumer that stayed attached for at least {@link RELAY_HEALTHY_CONSUMER_MS} (`livedMs`) ended for a reason
 * outside it (reconnect, missed heartbeats, stream deleted): the next one is made at once and the backoff is reset.
 * One that failed before attaching (`livedMs` null) or ended sooner backs off: `previous` (the last wait, 0 after a
 * reset) doubled, from 100 ms up to `maxMs` (exponential backoff), so a consumer that attaches and ends at once is
 * not re-made back to back.
 * @returns `wait` (0: at once) and `backoff` (the delay the next call gets as `previous`).
 */
export function nextRelayRetry(previous: number, livedMs: number | null, maxMs: number): { wait: number; backoff: number } {
  if (livedMs !== null && livedMs >= RELAY_HEALTHY_CONSUMER_MS) return { wait: 0, backoff: 0 };
  const backoff = Math.min(Math.max(previous * 2, FIRST_RETRY_MS), maxMs);
  return { wait: backoff, backoff };
}

/**
 * Consumes the events stream (the messages matching its filter) and hands every relayable event to
 * `publish(channel, frame)`. Invalid or non-allowlisted messages are logged and skipped; they never stop the loop.
 * Not restartable: after {@link stop} make a new one.
 */
export class EventRelay {
  private stopped = false;
  private messages: ConsumerMessages | undefined;
  private consumingNow = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private readonly firstConsume: Promise<void>;
  private resolveFirstConsume!: () => void;
  private readonly retryMs: number;
  private readonly filter: string | undefined;
  private readonly followConnection: boolean;
  private readonly countMetrics: boolean;
  private nc: NatsConnection | undefined;
  /** Stream sequence of the next message to relay (0 until the first consumer is placed). */
  private nextSeq = 0;
  private natsConnected = true;
  /** When the current consumer attached (Date.now()), null before it did. */
  private attachedAt: number | null = null;
  /** Current retry backoff in ms ({@link nextRelayRetry}). */
  private backoff = 0;

  /**
   * @param publish called synchronously for each relayed event with the channel (username) and the encoded frame.
   */
  constructor(
    private readonly publish: (channel: string, frame: string, decision: RelayDecision & { relay: true }) => void,
    private readonly logger: Logger,
    options: EventRelayOptions = {},
  ) {
    this.retryMs = options.retryMs ?? 1000;
    this.filter = options.filter;
    this.followConnection = options.followConnection ?? true;
    this.countMetrics = options.countMetrics ?? true;
    this.firstConsume = new Promise((resolve) => (this.resolveFirstConsume = resolve));
  }

  /**
   * Global position (decimal) up to which this relay has passed the stream: the position of the last message it took
   * (relayed or not), or, before the first, of the stream's last message when its first consumer was placed ("0" for
   * an empty stream or unknown). The events stream carries the log in position order (the store's publisher), so every
   * event this relay hands to `publish` later has a higher position: a viewer's history read at least at this position
   * plus the relayed events miss nothing (the `subscribed` frame's `position`).
   */
  get lastPosition(): string {
    return this.last;
  }

  /** Resolves once the first consumer is attached (pending while that keeps failing; never rejects). */
  get attached(): Promise<void> {
    return this.firstConsume;
  }

  /** True once the first consumer attached: {@link lastPosition} is then meaningful. */
  get hasAttached(): boolean {
    return this.everAttached;
  }

  private everAttached = false;

  private last = '0';

  /** True while NATS is connected and a consumer is attached to the stream (readiness: the edge is relaying). */
  get consuming(): boolean {
    return this.consumingNow && this.natsConnected;
  }

  /** Stream sequence of the next message the relay will take (0 before the first consumer). Tests, metrics. */
  get cursor(): number {
    return this.nextSeq;
  }

  /**
   * Starts the consume loop (idempotent; later calls ignore `nc`).
   * @param nc a NATS connection owned by the caller; it must outlive {@link stop}.
   * @returns a promise resolved once the first consumer is attached (pending while that keeps failing).
   */
  start(nc: NatsConnection): Promise<void> {
    if (!this.nc) {
      this.nc = nc;
      if (this.followConnection) void this.watchConnection(nc);
    }
    this.loop ??= this.run(this.nc);
    return this.firstConsume;
  }

  /** Stops consuming and waits for the loop to end. Events arriving after this are not relayed. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.messages?.stop();
    this.wake?.();
    await this.loop;
  }

  /**
   * Follows the connection: relaying stops being true on `disconnect`; on `reconnect` the current consumer is stopped
   * and the loop makes a new one from the cursor at once (instead of the ordered consumer's heartbeat timeout).
   */
  private async watchConnection(nc: NatsConnection): Promise<void> {
    try {
      for await (const s of nc.status()) {
        if (this.stopped) break;
        this.connectionStatus(s.type);
      }
    } catch {
      // the status iterator ends with the connection
    }
  }

  /**
   * Tells the relay of its connection's status (called by its own watcher, or by the owner of many relays when made
   * with `followConnection: false`): `disconnect` → not consuming; `reconnect` → the current consumer is stopped and
   * a new one is made from the cursor at once. Other statuses are ignored.
   */
  connectionStatus(type: string): void {
    if (type === 'disconnect') {
      this.natsConnected = false;
    } else if (type === 'reconnect') {
      this.natsConnected = true;
      // NATS is back: retry from the shortest delay, whatever the backoff reached while it was away.
      this.backoff = 0;
      this.logger.info({ cursor: this.nextSeq, filter: this.filter ?? '>' }, 'nats reconnected: re-creating the relay consumer from the cursor');
      this.messages?.stop();
      this.wake?.();
    }
  }

  private async run(nc: NatsConnection): Promise<void> {
    while (!this.stopped) {
      this.attachedAt = null;
      try {
        await this.consumeOnce(nc);
      } catch (err) {
        if (!this.stopped) this.logger.warn({ err }, 'event relay consumer failed; retrying');
      }
      this.consumingNow = false;
      this.messages = undefined;
      if (this.stopped) break;
      // A consumer that lived (reconnect, heartbeats missed) is re-made at once; one that failed or ended at once backs off.
      const lived = this.attachedAt === null ? null : Date.now() - this.attachedAt;
      const { wait, backoff } = nextRelayRetry(this.backoff, lived, this.retryMs);
      this.backoff = backoff;
      if (wait > 0) {
        if (lived !== null) this.logger.warn({ livedMs: lived, retryInMs: wait }, 'event relay consumer ended right after attaching; backing off');
        await this.sleep(wait);
      }
    }
  }

  /** Places the cursor, creates one ordered consumer from it and relays until that consumer ends (sets `attachedAt`). */
  private async consumeOnce(nc: NatsConnection): Promise<void> {
    if (await ensureEventsStream(nc)) this.logger.info({ stream: EVENTS_JETSTREAM }, 'created JetStream stream');
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(EVENTS_JETSTREAM);
    const { first_seq: first, last_seq: last } = info.state;
    if (this.nextSeq === 0 || this.nextSeq > last + 1) {
      if (this.nextSeq !== 0) this.logger.warn({ cursor: this.nextSeq, last }, 'events stream was reset; relaying from its end');
      this.nextSeq = last + 1;
      // Everything up to the stream's end is behind this relay: its position is that of the last message stored.
      if (last > 0 && !this.everAttached) {
        const stored = await jsm.streams.getMessage(EVENTS_JETSTREAM, { seq: last }).catch(() => null);
        const p = positionOf(stored?.header);
        if (p !== null) this.last = p;
      }
    } else if (this.nextSeq < first) {
      this.logger.warn({ cursor: this.nextSeq, first }, 'events missed by this edge are no longer in the stream; relaying from the first one left');
      this.nextSeq = first;
    }
    const consumer = await jetstream(nc).consumers.get(EVENTS_JETSTREAM, {
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: this.nextSeq,
      ...(this.filter !== undefined && { filter_subjects: this.filter }),
    });
    const messages = await consumer.consume();
    this.messages = messages;
    try {
      await this.relayFrom(messages);
    } finally {
      // The server keeps an idle ordered consumer for 5 min (nats.js `inactive_threshold`): remove it now, so an edge
      // whose last viewer of a channel left holds nothing of it on the server. Best effort (NATS may be away).
      void consumer
        .info(true)
        .then(async (ci) => (await jetstreamManager(nc)).consumers.delete(EVENTS_JETSTREAM, ci.name))
        .catch(() => undefined);
    }
  }

  /** Relays from an attached consumer until it ends or the relay stops. */
  private async relayFrom(messages: ConsumerMessages): Promise<void> {
    if (this.stopped) {
      messages.stop();
      return;
    }
    this.attachedAt = Date.now();
    this.consumingNow = true;
    this.everAttached = true;
    this.logger.info({ stream: EVENTS_JETSTREAM, from: this.nextSeq, filter: this.filter ?? '>' }, 'event relay consuming (ordered consumer from the cursor)');
    this.resolveFirstConsume();
    void this.watchStatus(messages);
    for await (const m of messages) {
      // Stopped (the last viewer of the channel left): nothing more is relayed, even what was already buffered.
      if (this.stopped) break;
      // A consumer made from an older position (or a redelivery) never relays a message twice.
      if (m.seq < this.nextSeq) continue;
      this.nextSeq = m.seq + 1;
      this.handle(m);
    }
  }

  private async watchStatus(messages: ConsumerMessages): Promise<void> {
    try {
      for await (const s of messages.status()) {
        if (s.type === 'stream_not_found') {
          // The stream was deleted under us: drop this consumer; the loop re-creates stream and consumer.
          this.logger.warn({ stream: EVENTS_JETSTREAM }, 'events stream not found; restarting relay consumer');
          messages.stop();
        } else if (s.type === 'heartbeats_missed') {
          // Re-make the consumer from our own cursor rather than waiting for the library's reset.
          this.logger.info({ status: s }, 'event relay missed heartbeats; re-creating the consumer');
          messages.stop();
        } else if (s.type === 'ordered_consumer_recreated' || s.type === 'consumer_not_found') {
          this.logger.info({ status: s }, 'event relay consumer status');
        }
      }
    } catch {
      // status iterator ends with the consumer
    }
  }

  private handle(m: JsMsg): void {
    const { subject, seq } = m;
    const position = positionOf(m.headers);
    if (position !== null) this.last = position;
    const decision = decodeRelayable(m.data);
    if (!decision.relay) {
      if (this.countMetrics) edgeMetrics.ignored(decision.reason);
      if (decision.reason === 'invalid') {
        this.logger.warn({ subject, seq, type: decision.type, id: decision.id, error: decision.error }, 'ignored invalid event');
      }
      return;
    }
    this.last = decision.event.globalPosition;
    try {
      this.publish(decision.channel, decision.frame, decision);
      if (this.countMetrics) edgeMetrics.relayed(decision.event.type);
      if (this.logger.isLevelEnabled('debug')) {
        this.logger.debug({ subject, seq, id: decision.event.id, type: decision.event.type, channel: decision.channel, correlationId: decision.correlationId }, 'relayed event');
      }
    } catch (err) {
      this.logger.error({ err, subject, seq }, 'failed to publish event to viewers');
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    });
  }
}
