/**
 * {@link createEventStore}: picks the adapter from configuration (EVENT_STORE, docs/contracts.md shared env).
 */
import type { Config } from '@eventcast/platform';
import type { EventStore } from './port.js';
import { EventStoreDbEventStore } from './eventstoredb/store.js';
import { PostgresEventStore } from './postgres/store.js';

/** The configuration keys the factory reads (a subset of `loadConfig()` of @eventcast/platform). */
export type EventStoreConfig = Pick<Config, 'EVENT_STORE' | 'DATABASE_URL' | 'EVENTSTORE_URL'>;

/**
 * Creates the configured store: PostgreSQL (default; schema migrated before returning) or EventStoreDB when
 * `EVENT_STORE=eventstoredb` (connecting to `EVENTSTORE_URL`, e.g. `esdb://127.0.0.1:2113?tls=false`).
 * @throws {Error} when EventStoreDB is chosen without `EVENTSTORE_URL`; the driver's errors when PostgreSQL is down.
 */
export async function createEventStore(config: EventStoreConfig): Promise<EventStore> {
  if (config.EVENT_STORE === 'eventstoredb') {
    if (!config.EVENTSTORE_URL) throw new Error('EVENT_STORE=eventstoredb needs EVENTSTORE_URL');
    return new EventStoreDbEventStore(config.EVENTSTORE_URL);
  }
  const store = new PostgresEventStore({ connectionString: config.DATABASE_URL });
  try {
    await store.migrate();
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}
