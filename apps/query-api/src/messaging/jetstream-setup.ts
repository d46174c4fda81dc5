/**
 * Idempotent JetStream topology for the projectors: the domain-event stream and the durable pull consumer, set up by
 * the platform's one topology module (@eventcast/events/jetstream, issue 12 item 3).
 */
import type { ConsumerInfo } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { ensureDurableConsumer, type DurableConsumerSpec } from '@eventcast/events/jetstream';

/** Where and how the projectors consume. */
export interface JetStreamTopology extends DurableConsumerSpec {
  /** Subjects of the stream, e.g. `['eventcast.events.>']` (used only when the stream is created here). */
  subjects: string[];
}

/**
 * Creates the stream when missing, then the durable pull consumer (deliver all, explicit ack) when missing; updates
 * `max_ack_pending`/`ack_wait` of an existing consumer that differs (`ensureDurableConsumer`). Safe to call
 * concurrently with other processes doing the same.
 * @returns the consumer's info.
 * @throws JetStream API errors other than "already exists" races.
 */
export function ensureTopology(nc: NatsConnection, t: JetStreamTopology): Promise<ConsumerInfo> {
  return ensureDurableConsumer(nc, t);
}
