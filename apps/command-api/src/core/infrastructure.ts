/**
 * The command API's infrastructure from `@eventcast/event-store`: the configured event store (PostgreSQL schema
 * migrated by `createEventStore`) and the event publisher (store → NATS JetStream, checkpoint in PostgreSQL).
 */
import { createEventStore, EventPublisher, type EventStore } from '@eventcast/event-store';
import { natsConnectionOptions, type Logger } from '@eventcast/platform';
import type { CommandApiConfig } from './config.js';
import { countAppendedEvents, countPublished, reportPublisherLag } from './metrics.js';

/** The publisher as this app uses it. */
export interface Publisher {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Opens the store chosen by `EVENT_STORE` (default PostgreSQL at DATABASE_URL, migrated before returning).
 * @throws when the database is unreachable.
 */
export async function openEventStore(config: CommandApiConfig): Promise<EventStore> {
  return countAppendedEvents(await createEventStore(config));
}

/**
 * Creates the publisher of `store` (not started): one active instance per deployment (advisory lock), checkpoint in
 * DATABASE_URL, NATS at NATS_URL. Retried failures are logged as warnings; retries are at most 1 s apart.
 */
export function createPublisher(config: CommandApiConfig, store: EventStore, logger: Logger): Publisher {
  const { servers, ...nats } = natsConnectionOptions(config, 'command-api');
  const publisher = new EventPublisher({
    store,
    databaseUrl: config.DATABASE_URL,
    natsServers: servers,
    natsOptions: { ...nats, name: 'eventcast-command-api-publisher' },
    onError: (err) => logger.warn({ err }, 'event publisher failed, retrying'),
    // Retries at most 1 s apart, so publishing resumes within about a second of PostgreSQL's or NATS's return.
    backoff: { initialMs: 100, maxMs: 1000 },
    onPublished: countPublished,
  });
  let unregister: (() => void) | undefined;
  return {
    start: () => {
      unregister ??= reportPublisherLag(publisher);
      return publisher.start();
    },
    stop: () => {
      unregister?.();
      unregister = undefined;
      return publisher.stop();
    },
  };
}
