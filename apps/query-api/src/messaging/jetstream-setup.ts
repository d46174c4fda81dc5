/**
 * Idempotent JetStream topology for the projectors: the domain-event stream and the durable pull consumer.
 */
import {
  AckPolicy,
  DeliverPolicy,
  ReplayPolicy,
  StorageType,
  jetstreamManager,
  type ConsumerInfo,
} from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/transport-node';

/** Where and how the projectors consume. */
export interface JetStreamTopology {
  /** Stream name, e.g. `EVENTCAST_EVENTS`. */
  stream: string;
  /** Subjects of the stream, e.g. `['eventcast.events.>']` (used only when the stream is created here). */
  subjects: string[];
  /** Durable consumer name, e.g. `query-api-projections`. */
  consumer: string;
  /**
   * Unacknowledged messages the server lets out at once (`max_ack_pending`). It bounds the projector's local
   * queue and its batch size; a few times the batch size lets the next batch arrive while one is applied.
   */
  maxAckPending: number;
  /** Milliseconds before an unacknowledged message is redelivered. */
  ackWaitMs: number;
}

/** Duplicate window of the event stream: 2 hours (docs/contracts.md). */
const DUPLICATE_WINDOW_MS = 2 * 60 * 60 * 1000;

function isNotFound(err: unknown): boolean {
  return err instanceof Error && (err.name === 'StreamNotFoundError' || err.name === 'ConsumerNotFoundError' || /not found/i.test(err.message));
}

/**
 * Creates the stream (file storage, 2 h duplicate window) when missing, then the durable pull consumer
 * (deliver all, explicit ack) when missing; updates `max_ack_pending`/`ack_wait` of an existing consumer that
 * differs. Safe to call concurrently with other processes doing the same.
 * @returns the consumer's info.
 * @throws JetStream API errors other than "already exists" races.
 */
export async function ensureTopology(nc: NatsConnection, t: JetStreamTopology): Promise<ConsumerInfo> {
  const jsm = await jetstreamManager(nc);
  try {
    await jsm.streams.info(t.stream);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    try {
      await jsm.streams.add({ name: t.stream, subjects: t.subjects, storage: StorageType.File, duplicate_window: nanos(DUPLICATE_WINDOW_MS) });
    } catch (addErr) {
      // Lost a creation race: fine when the stream now exists.
      await jsm.streams.info(t.stream).catch(() => Promise.reject(addErr instanceof Error ? addErr : new Error(String(addErr))));
    }
  }
  try {
    const info = await jsm.consumers.info(t.stream, t.consumer);
    if (info.config.max_ack_pending !== t.maxAckPending || info.config.ack_wait !== nanos(t.ackWaitMs)) {
      return await jsm.consumers.update(t.stream, t.consumer, { max_ack_pending: t.maxAckPending, ack_wait: nanos(t.ackWaitMs) });
    }
    return info;
  } catch (err) {
    if (!isNotFound(err)) throw err;
    return jsm.consumers.add(t.stream, {
      durable_name: t.consumer,
      name: t.consumer,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      replay_policy: ReplayPolicy.Instant,
      max_ack_pending: t.maxAckPending,
      ack_wait: nanos(t.ackWaitMs),
    });
  }
}
