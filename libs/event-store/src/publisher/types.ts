/**
 * Options and status shapes of `EventPublisher` (`../publisher.ts`).
 */
import type { NatsConnection, NodeConnectionOptions } from '@nats-io/transport-node';
import type { RecordedEvent } from '@eventcast/events';
import type { EventStore } from '../port.js';
import type { BackoffOptions } from '../backoff.js';

/** Configuration of an {@link EventPublisher}. Times in milliseconds. */
export interface EventPublisherOptions {
  store: EventStore;
  /** PostgreSQL holding `eventstore.publisher_checkpoint` and the advisory lock (a dedicated connection is opened). */
  databaseUrl: string;
  /** NATS servers to connect to (reconnects forever); ignored when `nats` is given. */
  natsServers?: string | string[];
  /**
   * Further options of the connection the publisher opens (credentials `user`/`pass`, `inboxPrefix`, `name`; see
   * `natsConnectionOptions` of @eventcast/platform); `servers` comes from `natsServers`.
   */
  natsOptions?: Omit<NodeConnectionOptions, 'servers'>;
  /** An existing connection to use instead (not closed by `stop()`). */
  nats?: NatsConnection;
  /** Publisher name: checkpoint row and lock key (default `jetstream`). */
  name?: string;
  /** JetStream stream to ensure (default `EVENTS_JETSTREAM` of @eventcast/events). */
  jetStreamName?: string;
  /** Publishes in flight at once (default 128; 1 = strictly one at a time). */
  window?: number;
  /** How often the acked position is stored (default 250). */
  checkpointEveryMs?: number;
  /** Wait between attempts to take the lock while another instance holds it (default 1000). */
  lockRetryMs?: number;
  /** PubAck timeout (default 5000). */
  publishTimeoutMs?: number;
  /** Backoff after a failure (default 100 ms doubling to 5 s). */
  backoff?: BackoffOptions;
  /** Called with every failure that is then retried (logging hook). */
  onError?: (err: unknown) => void;
  /**
   * Called once per event whose PubAck arrived (metrics hook), `duplicate` true when JetStream had it already
   * (a re-send after a failure). Called in ack order per connection; must not throw.
   */
  onPublished?: (event: RecordedEvent, duplicate: boolean) => void;
}

/** Snapshot of a publisher's progress. Positions are global positions of the store. */
export interface PublisherStatus {
  name: string;
  /** True while this instance holds the lock and publishes. */
  active: boolean;
  /** Last stored checkpoint. */
  checkpoint: bigint;
  /** Everything at or below this is acknowledged by JetStream (may be ahead of the stored checkpoint). */
  acked: bigint;
  /** The store's head position. */
  head: bigint;
  /** `head - acked`: events not yet confirmed in JetStream (a count in the PostgreSQL store). */
  lag: bigint;
}
