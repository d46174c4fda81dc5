/**
 * Relays domain events from NATS JetStream to uWS topics.
 *
 * Source: JetStream stream `EVENTCAST_EVENTS` (subjects `eventcast.events.>`, docs/contracts.md). The edge is
 * stateless, so it reads with an ephemeral *ordered* consumer that starts at new messages (deliver policy `new`):
 * nothing to ack, nothing to clean up. The ordered consumer re-creates itself after NATS reconnects or missed
 * heartbeats; if consuming fails anyway (stream deleted, consumer creation refused), the loop waits and starts a
 * fresh consumer, creating the stream first when it is missing.
 */
import { DeliverPolicy, jetstream, jetstreamManager, StorageType, type ConsumerMessages } from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import { EVENTS_JETSTREAM, EVENTS_SUBJECT_PREFIX } from '@eventcast/events';
import type { Logger } from '@eventcast/platform';
import { edgeMetrics } from './metrics.js';
import { decodeRelayable, type RelayDecision } from './relayable.js';

/** JetStream de-duplication window of the events stream: 2 hours (docs/contracts.md). */
export const EVENTS_DUPLICATE_WINDOW_MS = 2 * 60 * 60 * 1000;

/**
 * Makes sure the events stream exists; creates it (file storage, subjects `eventcast.events.>`, duplicate window 2 h)
 * when missing. Idempotent and safe to race with other apps doing the same: an existing stream is left as it is.
 * @throws the NATS error when the stream can be neither found nor created.
 */
export async function ensureEventsStream(nc: NatsConnection, logger: Logger): Promise<void> {
  const jsm = await jetstreamManager(nc);
  try {
    await jsm.streams.info(EVENTS_JETSTREAM);
    return;
  } catch (err) {
    if (!(err instanceof Error) || err.name !== 'StreamNotFoundError') throw err;
  }
  try {
    await jsm.streams.add({
      name: EVENTS_JETSTREAM,
      subjects: [`${EVENTS_SUBJECT_PREFIX}.>`],
      storage: StorageType.File,
      duplicate_window: nanos(EVENTS_DUPLICATE_WINDOW_MS),
    });
    logger.info({ stream: EVENTS_JETSTREAM }, 'created JetStream stream');
  } catch (err) {
    // Another process may have created it in between (possibly with other limits): accept any existing stream.
    await jsm.streams.info(EVENTS_JETSTREAM).catch(() => {
      throw err;
    });
  }
}

/** Options of {@link EventRelay}. */
export interface EventRelayOptions {
  /** Delay before starting a new consumer after a failure, in ms. Default 1000. */
  retryMs?: number;
}

/**
 * Consumes the events stream and hands every relayable event to `publish(channel, frame)`.
 * Invalid or non-allowlisted messages are logged and skipped; they never stop the loop.
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
  private nc: NatsConnection | undefined;

  /**
   * @param publish called synchronously for each relayed event with the channel (username) and the encoded frame.
   */
  constructor(
    private readonly publish: (channel: string, frame: string, decision: RelayDecision & { relay: true }) => void,
    private readonly logger: Logger,
    options: EventRelayOptions = {},
  ) {
    this.retryMs = options.retryMs ?? 1000;
    this.firstConsume = new Promise((resolve) => (this.resolveFirstConsume = resolve));
  }

  /**
   * Global position (decimal) of the last event handed to `publish`, "0" before the first. The events stream carries
   * the log in position order (the store's publisher), so every later relayed event has a higher position.
   */
  get lastPosition(): string {
    return this.last;
  }

  private last = '0';

  /** True while a consumer is attached to the stream. */
  get consuming(): boolean {
    return this.consumingNow;
  }

  /**
   * Starts the consume loop (idempotent; later calls ignore `nc`).
   * @param nc a NATS connection owned by the caller; it must outlive {@link stop}.
   * @returns a promise resolved once the first consumer is attached (pending while that keeps failing).
   */
  start(nc: NatsConnection): Promise<void> {
    this.nc ??= nc;
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

  private async run(nc: NatsConnection): Promise<void> {
    while (!this.stopped) {
      try {
        await this.consumeOnce(nc);
      } catch (err) {
        if (!this.stopped) this.logger.warn({ err }, 'event relay consumer failed; retrying');
      }
      this.consumingNow = false;
      if (!this.stopped) await this.sleep(this.retryMs);
    }
  }

  private async consumeOnce(nc: NatsConnection): Promise<void> {
    await ensureEventsStream(nc, this.logger);
    const js = jetstream(nc);
    const consumer = await js.consumers.get(EVENTS_JETSTREAM, { deliver_policy: DeliverPolicy.New });
    const messages = await consumer.consume();
    this.messages = messages;
    if (this.stopped) {
      messages.stop();
      return;
    }
    this.consumingNow = true;
    this.logger.info({ stream: EVENTS_JETSTREAM }, 'event relay consuming (ordered consumer, deliver new)');
    this.resolveFirstConsume();
    void this.watchStatus(messages);
    for await (const m of messages) {
      this.handle(m.data, m.subject, m.seq);
    }
  }

  private async watchStatus(messages: ConsumerMessages): Promise<void> {
    try {
      for await (const s of messages.status()) {
        if (s.type === 'stream_not_found') {
          // The stream was deleted under us: drop this consumer; the loop re-creates stream and consumer.
          this.logger.warn({ stream: EVENTS_JETSTREAM }, 'events stream not found; restarting relay consumer');
          messages.stop();
        } else if (s.type === 'heartbeats_missed' || s.type === 'ordered_consumer_recreated' || s.type === 'consumer_not_found') {
          this.logger.info({ status: s }, 'event relay consumer status');
        }
      }
    } catch {
      // status iterator ends with the consumer
    }
  }

  private handle(body: Uint8Array, subject: string, seq: number): void {
    const decision = decodeRelayable(body);
    if (!decision.relay) {
      edgeMetrics.ignored(decision.reason);
      if (decision.reason === 'invalid') {
        this.logger.warn({ subject, seq, type: decision.type, id: decision.id, error: decision.error }, 'ignored invalid event');
      }
      return;
    }
    this.last = decision.event.globalPosition;
    try {
      this.publish(decision.channel, decision.frame, decision);
      edgeMetrics.relayed(decision.event.type);
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
