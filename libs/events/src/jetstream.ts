/**
 * The one JetStream topology of the platform (issue 12 item 3): the domain-event stream, its subjects and duplicate
 * window, query-api's durable consumer names, and the idempotent set-up used by command-api's publisher
 * (libs/event-store), query-api's projectors and the realtime edge. Node only (imports the NATS client): import it as
 * `@eventcast/events/jetstream`, never from browser code; the subject conventions themselves are in ./names.ts.
 *
 * Stream `EVENTCAST_EVENTS`: subjects `eventcast.events.>` (one subject per event:
 * `eventcast.events.<category>.<channel>.<type>`), file storage, duplicate window 2 h (message id = event id, so a
 * re-published event is stored once), default limits. An existing stream is left as it is configured.
 */
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  ReplayPolicy,
  StorageType,
  jetstreamManager,
  type ConsumerInfo,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import { EVENTS_JETSTREAM, EVENTS_SUBJECT_PREFIX } from './names.js';

/** JetStream de-duplication window of the events stream: 2 hours, in ms (docs/contracts.md). */
export const EVENTS_DUPLICATE_WINDOW_MS = 2 * 60 * 60 * 1000;

/** Subjects of the events stream: every domain event (`eventcast.events.>`). */
export const EVENTS_STREAM_SUBJECTS: readonly string[] = [`${EVENTS_SUBJECT_PREFIX}.>`];

/** Durable consumer of query-api's projectors (`QUERY_API_CONSUMER`'s default). */
export const PROJECTIONS_CONSUMER = 'query-api-projections';
/** Durable consumer of query-api's webhook dispatcher. */
export const WEBHOOKS_CONSUMER = 'query-api-webhooks';

function isNotFound(err: unknown): boolean {
  if (err instanceof JetStreamApiError) return err.code === JetStreamApiCodes.StreamNotFound || err.code === JetStreamApiCodes.ConsumerNotFound;
  return err instanceof Error && (err.name === 'StreamNotFoundError' || err.name === 'ConsumerNotFoundError' || /not found/i.test(err.message));
}

async function managerOf(nc: NatsConnection | JetStreamManager): Promise<JetStreamManager> {
  return 'streams' in nc ? nc : jetstreamManager(nc);
}

/**
 * Makes sure the events stream exists: creates it (subjects {@link EVENTS_STREAM_SUBJECTS}, file storage, duplicate
 * window {@link EVENTS_DUPLICATE_WINDOW_MS}) when missing. Idempotent and safe to race with other processes doing the
 * same: an existing stream (possibly created by another process with other limits) is accepted as it is.
 * @param nc a NATS connection or a JetStream manager.
 * @param name the stream name (default `EVENTCAST_EVENTS`; tests use others).
 * @param subjects the stream's subjects when it is created (default {@link EVENTS_STREAM_SUBJECTS}; tests that run a
 *   private stream beside the platform's on a shared server use their own prefix).
 * @returns true when this call created the stream.
 * @throws the NATS error when the stream can be neither found nor created (JetStream unavailable, no permission).
 */
export async function ensureEventsStream(
  nc: NatsConnection | JetStreamManager,
  name: string = EVENTS_JETSTREAM,
  subjects: readonly string[] = EVENTS_STREAM_SUBJECTS,
): Promise<boolean> {
  const jsm = await managerOf(nc);
  try {
    await jsm.streams.info(name);
    return false;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  try {
    await jsm.streams.add({ name, subjects: [...subjects], storage: StorageType.File, duplicate_window: nanos(EVENTS_DUPLICATE_WINDOW_MS) });
    return true;
  } catch (err) {
    // Lost a creation race: fine when the stream now exists.
    await jsm.streams.info(name).catch(() => Promise.reject(err instanceof Error ? err : new Error(String(err))));
    return false;
  }
}

/** A durable pull consumer over the whole events stream (query-api's projectors and webhook dispatcher). */
export interface DurableConsumerSpec {
  /** Stream name, e.g. `EVENTCAST_EVENTS`. */
  stream: string;
  /** Subjects of the stream when it is created here (default {@link EVENTS_STREAM_SUBJECTS}). */
  subjects?: readonly string[];
  /** Durable consumer name, e.g. {@link PROJECTIONS_CONSUMER}. */
  consumer: string;
  /** Unacknowledged messages the server lets out at once (`max_ack_pending`). */
  maxAckPending: number;
  /** Milliseconds before an unacknowledged message is redelivered (`ack_wait`). */
  ackWaitMs: number;
}

/**
 * Ensures the events stream ({@link ensureEventsStream}), then the durable pull consumer (deliver all, explicit ack,
 * instant replay, no filter: every event) when missing; updates `max_ack_pending`/`ack_wait` of an existing one that
 * differs. Safe to call concurrently with other processes doing the same.
 * @returns the consumer's info.
 * @throws JetStream API errors other than creation races.
 */
export async function ensureDurableConsumer(nc: NatsConnection | JetStreamManager, c: DurableConsumerSpec): Promise<ConsumerInfo> {
  const jsm = await managerOf(nc);
  await ensureEventsStream(jsm, c.stream, c.subjects ?? EVENTS_STREAM_SUBJECTS);
  try {
    const info = await jsm.consumers.info(c.stream, c.consumer);
    if (info.config.max_ack_pending !== c.maxAckPending || info.config.ack_wait !== nanos(c.ackWaitMs)) {
      return await jsm.consumers.update(c.stream, c.consumer, { max_ack_pending: c.maxAckPending, ack_wait: nanos(c.ackWaitMs) });
    }
    return info;
  } catch (err) {
    if (!isNotFound(err)) throw err;
    return jsm.consumers.add(c.stream, {
      durable_name: c.consumer,
      name: c.consumer,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      replay_policy: ReplayPolicy.Instant,
      max_ack_pending: c.maxAckPending,
      ack_wait: nanos(c.ackWaitMs),
    });
  }
}
